"""Which peers can be assigned to a person (issue 13, point 6): any active peer of the team not
currently assigned to this person, whatever their assignments to others or their ended ones."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from networks import peer_services
from networks.selectors import assignable_peers
from tests import factories as f

NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def test_a_peer_whose_assignment_here_ended_and_who_works_with_someone_else_can_be_chosen(
    client, team, service_user, peer_worker, peer_volunteer, clinician
):
    other = f.make_service_user(team, given_name="Ali", family_name="Other")
    ended = peer_services.peer_assign(
        service_user=service_user, peer=peer_worker, assigned_by=clinician, now=NOW
    )
    peer_services.peer_unassign(assignment=ended, ended_by=clinician, now=NOW)
    peer_services.peer_assign(service_user=other, peer=peer_worker, assigned_by=clinician, now=NOW)
    peer_services.peer_assign(
        service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=NOW
    )
    # Ended here + open elsewhere: assignable. Open here: not.
    assert list(assignable_peers(service_user)) == [peer_worker]
    client.force_login(clinician)
    page = client.get(reverse("networks:peer_assignments", args=[service_user.pk]))
    assert page.status_code == 200
    response = client.post(
        reverse("networks:peer_assignments", args=[service_user.pk]), {"peer": peer_worker.pk}
    )
    assert response.status_code == 302
    assert service_user.peer_assignments.filter(peer=peer_worker, ended_at=None).exists()
