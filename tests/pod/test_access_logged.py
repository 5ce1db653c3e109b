"""Everything looked at is logged: every URL, as every role, with seeded people; any response
whose body shows a seeded person's NHS number or name must have written a RecordAccess row for
that user and that person. The admin is walked too (every list, search and change page of
every registered model), and the lookups that answer a POST.

A page that shows someone without logging it fails here, whatever the page is: a new list, a
new export or a new admin page cannot forget the access log unnoticed.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib import admin
from django.urls import reverse

from meetings.models import Alert
from outcomes.models import LicensedMeasure, OutcomeAssessment, ScoredMeasure
from outcomes.services import survey_invitation_issue
from pod.foundation.admin_access import PersonRecordAdmin
from pod.foundation.audit_models import RecordAccess
from pod.foundation.models import Notification
from tests import factories as f
from tests.pod.access_matrix import ROLES
from tests.pod.urlwalk import build_url, routes, url_for_world

pytestmark = [pytest.mark.django_db, pytest.mark.hazard("HAZ-06.C13")]


def _identifiers(person) -> list[str]:
    n = person.nhs_number
    return [n, f"{n[:3]} {n[3:6]} {n[6:]}", f"{n[:3]}-{n[3:6]}-{n[6:]}", person.family_name]


@pytest.fixture
def seeded(world, team, other_team, episode, service_user, clinician, referral_at):
    users, ids = world
    # Distinctive people: the world's person (Jordan Rivers), a second person of the team, and
    # someone of another team, whom nobody here may see.
    second = f.make_service_user(team, given_name="Quentin", family_name="Marlowe-Ashgrove")
    elsewhere = f.make_service_user(other_team, given_name="Ottoline", family_name="Fenwickby")
    # An alert about the world's person, unread by everyone: every home page lists it.
    alert = Alert.objects.create(
        episode=episode, kind=Alert.Kind.BREACHED, message="Breached.", raised_at=referral_at
    )
    for user in users.values():
        if user is not None:
            Notification.objects.create(user=user, alert=alert)
    OutcomeAssessment.objects.create(
        service_user=service_user,
        timepoint_months=12,
        assessed_on=date(2026, 3, 3),
        symptom_level="moderate",
        relapse=False,
        hospital_bed_days=0,
        disability_benefit=False,
        neuroleptic_use=False,
        work_or_study=True,
        recorded_by=clinician,
    )
    ScoredMeasure.objects.create(
        service_user=service_user,
        instrument="PHQ9",
        completed_on=date(2026, 3, 3),
        item_scores=[1] * 9,
        total=9,
        band="mild",
        recorded_by=clinician,
    )
    LicensedMeasure.objects.create(
        service_user=service_user,
        name="WEMWBS",
        completed_on=date(2026, 3, 3),
        score=50,
        recorded_by=clinician,
    )
    survey_invitation_issue(service_user=service_user, issued_by=clinician, now=referral_at)
    people = {"person": service_user, "second": second, "elsewhere": elsewhere}
    return users, ids, people


def _new_accesses(after_id: int, user) -> set[int]:
    return set(
        RecordAccess.objects.filter(pk__gt=after_id, user=user).values_list(
            "service_user_id", flat=True
        )
    )


def _check(client, user, role, label, send, people, capture, problems, sent=()) -> bool:
    """Send one request; record a problem when it shows someone it did not log. An identifier
    the request itself sent (`sent`: a search term) does not count as shown."""
    last = RecordAccess.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with capture(execute=True):
        response = send()
    if response.status_code != 200:
        return False
    body = response.content.decode(errors="replace")
    sent = {str(v) for v in sent}
    logged = _new_accesses(last, user) if user is not None else set()
    shown = False
    for key, person in people.items():
        # What the request sent is echoed (the search box, "results for ..."): it proves
        # nothing; a result row shows the person's other identifiers too.
        seen = [i for i in _identifiers(person) if i in body and i not in sent]
        if seen:
            shown = True
            if person.pk not in logged:
                problems.append(f"{label} as {role} shows {key} ({seen[0]!r}) but logged no look")
    return shown


def test_every_page_that_shows_a_person_logs_the_look(
    client, seeded, django_capture_on_commit_callbacks
):
    users, ids, people = seeded
    problems: list[str] = []
    showing = 0
    for route in routes():
        if route.name.startswith(("admin:", "admin/")):
            continue  # walked below, as the administrator
        url = url_for_world(route, ids)
        for role in ROLES:
            client.logout()
            if users[role] is not None:
                client.force_login(users[role])
            showing += _check(
                client,
                users[role],
                role,
                f"GET {url}",
                lambda url=url: client.get(url),
                people,
                django_capture_on_commit_callbacks,
                problems,
            )
    assert showing > 50  # the walk really met the people
    assert not problems, "\n".join(problems)


def test_every_lookup_that_shows_a_person_logs_the_look(
    client, seeded, django_capture_on_commit_callbacks
):
    users, _ids, people = seeded
    person = people["person"]
    posts = [
        (reverse("meetings:person_lookup"), {"nhs_number": person.nhs_number}),
        (reverse("people:person_search"), {"q": person.family_name}),
        (
            reverse("people:person_search"),
            {"q": f"{person.nhs_number[:3]}-{person.nhs_number[3:]}"},
        ),
    ]
    problems: list[str] = []
    shown = 0
    for url, data in posts:
        for role in ROLES:
            client.logout()
            if users[role] is not None:
                client.force_login(users[role])
            shown += _check(
                client,
                users[role],
                role,
                f"POST {url} {data}",
                lambda url=url, data=data: client.post(url, data),
                people,
                django_capture_on_commit_callbacks,
                problems,
                sent=data.values(),
            )
    assert shown >= 6
    assert not problems, "\n".join(problems)


def _admin_object_id(model_admin, person) -> str | None:
    manager = model_admin.model._default_manager
    if isinstance(model_admin, PersonRecordAdmin):
        found = manager.filter(**{model_admin.person_path: person.pk}).order_by("pk").first()
    else:
        found = manager.order_by("pk").first()
    return None if found is None else str(found.pk)


def test_every_admin_page_that_shows_a_person_logs_the_look(
    client, seeded, admin_user, django_capture_on_commit_callbacks
):
    _users, _ids, people = seeded
    person = people["person"]
    client.force_login(admin_user)
    problems: list[str] = []
    shown = 0
    admins = {
        f"admin:{m._meta.app_label}_{m._meta.model_name}_": a
        for m, a in admin.site._registry.items()
    }
    for route in routes():
        prefix = next((p for p in admins if route.name.startswith(p)), None)
        if prefix is None:
            continue
        object_id = _admin_object_id(admins[prefix], person)
        url = build_url(route, lambda _name, param, oid=object_id: oid or "1")
        requests = [(url, ())]
        if route.name.endswith("_changelist"):
            requests += [
                (f"{url}?q={person.family_name}", (person.family_name,)),
                (f"{url}?q={person.nhs_number}", (person.nhs_number,)),
            ]
        for target, sent in requests:
            shown += _check(
                client,
                admin_user,
                "admin",
                f"GET {target}",
                lambda target=target: client.get(target),
                people,
                django_capture_on_commit_callbacks,
                problems,
                sent=sent,
            )
    assert shown > 20
    assert not problems, "\n".join(problems)


def test_the_dashboard_lists_and_their_csv_log_the_people_behind_the_episodes(
    client, manager, team, clinician, referral_at, django_capture_on_commit_callbacks
):
    from tests.outcomes import builders as b

    start = referral_at - timedelta(days=30)
    late = b.episode(team, referral=start, held_after_hours=30)  # a breach
    b.alert(late, "breached", "No first meeting within 24 hours.", start + timedelta(hours=24))
    client.force_login(manager)
    query = {
        "start": (start - timedelta(days=1)).date().isoformat(),
        "end": referral_at.date().isoformat(),
    }
    for url in (
        reverse("outcomes:dashboard_section", args=["first-meeting"]),
        reverse("outcomes:dashboard_csv", args=["breaches"]),
    ):
        last = RecordAccess.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        with django_capture_on_commit_callbacks(execute=True):
            response = client.get(url, query)
        assert response.status_code == 200
        assert str(late.pk) in response.content.decode()
        assert late.service_user_id in _new_accesses(last, manager), url
