"""Every look at a record is logged; the record's clinicians see who looked; admins search it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.utils import timezone

from pod.foundation import record_targets
from pod.foundation.audit import record_access
from pod.foundation.audit_models import RecordAccess
from tests.outcomes import builders as b

pytestmark = pytest.mark.django_db


def _url(person):
    return reverse("security:access_log", args=[person.pk])


@pytest.mark.hazard("HAZ-06.C8", "HAZ-10.C4")
def test_it_records_who_looked_at_what_without_personal_data(clinician, service_user):
    request = RequestFactory().get(f"/people/{service_user.pk}/")
    request.user = clinician
    request.resolver_match = resolve(reverse("home"))
    entry = record_access(request, service_user, "person")
    assert (entry.user, entry.service_user_id, entry.what, entry.view_name) == (
        clinician,
        service_user.pk,
        "person",
        "home",
    )


@pytest.mark.hazard("HAZ-06.C8")
def test_it_shows_the_team_clinicians_who_looked(client, clinician, peer_worker, service_user):
    RecordAccess.objects.create(user=peer_worker, service_user=service_user, what="peer:person")
    client.force_login(clinician)
    response = client.get(_url(service_user))
    assert response.status_code == 200
    page = response.content.decode()
    assert str(peer_worker) in page and "Opened person" in page


def test_it_names_pages_in_words_not_route_names(client, clinician, service_user):
    for what in ("meetings:episode_detail", "list:home", "outcomes:team_fidelity"):
        RecordAccess.objects.create(user=clinician, service_user=service_user, what=what)
    client.force_login(clinician)
    page = client.get(_url(service_user)).content.decode()
    assert "Opened the episode" in page
    assert "Saw the person listed on the home page" in page
    assert "Opened team fidelity" in page  # a page not listed still reads as words
    for code in ("meetings:episode_detail", "list:home", "outcomes:team_fidelity"):
        assert f"<td>{code}</td>" not in page


@pytest.mark.hazard("HAZ-06.C8")
@pytest.mark.parametrize("who", ["peer_worker", "manager", "outsider"])
def test_it_refuses_the_log_to_anyone_but_the_team_clinicians(client, request, who, service_user):
    client.force_login(request.getfixturevalue(who))
    assert client.get(_url(service_user)).status_code in (403, 404)


def test_it_lets_an_administrator_read_any_log(client, admin_user, service_user):
    client.force_login(admin_user)
    assert client.get(_url(service_user)).status_code == 200


def test_it_keeps_the_page_within_a_query_budget(
    client, clinician, clinician2, service_user, django_assert_max_num_queries
):
    for _ in range(20):
        RecordAccess.objects.create(user=clinician2, service_user=service_user, what="person")
    client.force_login(clinician)
    with django_assert_max_num_queries(8):
        assert client.get(_url(service_user)).status_code == 200


@pytest.mark.hazard("HAZ-07.C3")
def test_it_lets_administrators_search_the_audit_but_not_change_it(
    client, admin_user, service_user
):
    RecordAccess.objects.create(user=admin_user, service_user=service_user, what="person")
    client.force_login(admin_user)
    found = client.get("/admin/pod/recordaccess/", {"q": str(service_user.pk)})
    assert found.status_code == 200 and found.context["cl"].result_count == 1
    changes = client.get(
        "/admin/pod/auditevent/", {"q": str(service_user.pk), "table_name": "networks_serviceuser"}
    )
    assert changes.status_code == 200 and changes.context["cl"].result_count == 1
    assert client.get("/admin/pod/auditevent/add/").status_code == 403


@pytest.mark.hazard("HAZ-06.C8")
def test_it_logs_every_opened_page_of_a_record_without_costing_the_page_a_query(
    client, clinician, episode, service_user, django_capture_on_commit_callbacks
):
    client.force_login(clinician)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(reverse("meetings:episode_detail", args=[episode.pk])).status_code == 200
        client.get(reverse("networks:member_list", args=[service_user.pk]))
        client.get(reverse("meetings:episode_detail", args=[999999]))  # 404: nothing opened
    logged = list(
        RecordAccess.objects.filter(service_user=service_user).values_list("what", flat=True)
    )
    assert sorted(logged) == ["meetings:episode_detail", "networks:member_list"]


def test_it_does_not_log_a_refused_look(
    client, outsider, episode, django_capture_on_commit_callbacks
):
    client.force_login(outsider)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(reverse("meetings:episode_detail", args=[episode.pk])).status_code == 404
    assert not RecordAccess.objects.exists()


def test_it_logs_a_page_named_by_a_meeting_after_the_response_not_while_building_it(
    client, team, clinician, clinician2, django_capture_on_commit_callbacks
):
    start = timezone.now() - timedelta(days=1)
    episode = b.episode(team, referral=start - timedelta(hours=2), held_after_hours=2)
    meeting = b.meeting(episode, start=start, staff=[clinician, clinician2])
    client.force_login(clinician)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = client.get(reverse("outcomes:meeting_fidelity", args=[meeting.pk]))
    assert page.status_code == 200
    assert not RecordAccess.objects.exists()  # nothing written while the page was built
    for callback in callbacks:
        callback()
    assert list(RecordAccess.objects.values_list("service_user_id", "what")) == [
        (episode.service_user_id, "outcomes:meeting_fidelity")
    ]


def test_it_knows_the_record_kinds_the_meetings_app_registered():
    # The foundation imports no app: meetings fills the registry in MeetingsConfig.ready.
    assert record_targets.target_for("meetings", {"pk": 7}) == ("episode", 7)
    assert record_targets.target_for("networks", {"pk": 7}) is None
    assert record_targets.target_for("outcomes", {"meeting_id": 8}) == ("meeting", 8)
    assert record_targets.target_for("meetings", {"person_pk": 9, "pk": 7}) == ("person", 9)
    assert record_targets.person_id_for("unknown", 1) is None


def test_the_episode_page_logs_its_person_without_looking_the_episode_up_again(
    client, clinician, episode, django_capture_on_commit_callbacks
):
    """The episode page's access-log row is written from the person the page loaded under its
    access check (issue 17, point 3): one INSERT after the response, no lookup of the episode."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(clinician)
    url = reverse("meetings:episode_detail", args=[episode.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        for callback in callbacks:
            callback()
    written = [q["sql"] for q in ctx.captured_queries]
    assert not [sql for sql in written if "meetings_episode" in sql], written
    assert [
        (a.user_id, a.service_user_id, a.what, a.view_name)
        for a in RecordAccess.objects.filter(view_name="meetings:episode_detail")
    ] == [
        (
            clinician.pk,
            episode.service_user_id,
            "meetings:episode_detail",
            "meetings:episode_detail",
        )
    ]


def test_a_known_target_replaces_only_the_record_the_url_names():
    from pod.foundation.middleware import _RECORD_TARGET, record_target_known

    request = RequestFactory().get("/episodes/7/")
    setattr(request, _RECORD_TARGET, ("episode", 7))
    record_target_known(request, "episode", 8, 99)  # another record: ignored
    assert getattr(request, _RECORD_TARGET) == ("episode", 7)
    record_target_known(request, "episode", 7, 42)
    assert getattr(request, _RECORD_TARGET) == ("person", 42)
