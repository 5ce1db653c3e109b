from django.utils import timezone

from networks.models import PeerAssignment
from tests import factories as f


def test_it_shows_a_peer_their_assigned_people_on_the_home_page(
    client, peer_volunteer, clinician, service_user, team
):
    stranger = f.make_service_user(team, given_name="Unassigned", family_name="Stranger")
    PeerAssignment.objects.create(
        service_user=service_user,
        peer=peer_volunteer,
        assigned_by=clinician,
        assigned_at=timezone.now(),
    )
    client.force_login(peer_volunteer)
    page = client.get("/").content.decode()
    assert service_user.display_name in page
    assert stranger.family_name not in page
