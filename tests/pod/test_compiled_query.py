"""The home pages' lists, compiled once per process, give exactly what the ORM gives (issue 17,
point 3; pod/foundation/compiled_query.py, pod/foundation/paging.py `bounded_compiled`).

The compiled path relies on Django internals (compiled_query's docstring lists them). Every
home page is drawn here both ways, through the compiled lists and as the plain ORM querysets
(`compiled_query.uncompiled()`), for users of every role in two teams, and what each list holds must
be equal, row by row and figure by figure. A Django upgrade that changes those internals fails
here instead of showing a clinician the wrong people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import F, OuterRef, Prefetch
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings import selectors
from meetings.models import Alert, Decision, Episode, Participant, Utterance
from meetings.services.episodes import episode_close
from networks import peer_services
from networks.selectors import get_service_user_for_user
from pod.foundation import compiled_query, paging
from pod.foundation.models import Notification, User
from pod.records.banner import person_banner_for
from tests import factories as f
from tests.meetings.helpers import future_meeting, held_meeting, recent_episode

pytestmark = pytest.mark.django_db


def _lists(context) -> dict[str, object]:
    """What each list of a home page holds, as plain values."""
    out: dict[str, object] = {}
    for name in ("clocks", "today", "tomorrow", "caseload", "notifications", "queue"):
        page = context.get(name)
        if page is None:
            continue
        rows = []
        for row in page:
            if name == "clocks":
                rows.append((row.episode.pk, str(row.episode.service_user), row.level, row.words,
                             row.arranged))  # fmt: skip
            elif name in ("today", "tomorrow"):
                rows.append((row.pk, row.episode.service_user_id, str(row.episode.service_user),
                             row.scheduled_start, row.staff_count, row.i_attend))  # fmt: skip
            elif name == "caseload":
                rows.append((row.pk, str(row.service_user), row.get_status_display(), row.mine,
                             row.held))  # fmt: skip
            elif name == "notifications":
                episode = row.alert.episode
                rows.append((row.pk, row.alert_id, row.alert.message, episode.service_user_id,
                             str(episode.service_user)))  # fmt: skip
            else:
                rows.append(row.pk)
        out[name] = (rows, getattr(page, "total", len(rows)))
    return out


@pytest.fixture
def service(team, other_team, clinician, clinician2, prescriber, peer_worker, manager):
    """Two teams' open clocks (with and without a meeting arranged), meetings today and
    tomorrow, held meetings, a closed episode and unread alerts."""
    outsider = f.make_user("clinician", other_team)
    outsider2 = f.make_user("clinician", other_team)
    waiting = recent_episode(team, [clinician, clinician2], hours_ago=3)
    arranged = recent_episode(team, [clinician2, prescriber], hours_ago=2)
    future_meeting(arranged, [clinician2], days=0.1)
    seen = recent_episode(team, [clinician, prescriber], hours_ago=80)
    held_meeting(seen, [clinician], hours_after_referral=3)
    held_meeting(seen, [clinician, prescriber], hours_after_referral=27)
    future_meeting(seen, [clinician, prescriber], days=1)
    closed = recent_episode(team, [clinician, clinician2], hours_ago=50)
    episode_close(episode=closed, outcome="done", closed_at=timezone.now(), now=timezone.now())
    theirs = recent_episode(other_team, [outsider, outsider2], hours_ago=4)
    future_meeting(theirs, [outsider], days=0.1)
    for episode, users in (
        (waiting, [clinician, clinician2, peer_worker, manager]),
        (seen, [clinician, manager]),
        (theirs, [outsider]),
    ):
        alert = Alert.objects.create(
            episode=episode, kind=Alert.Kind.AT_RISK, message="At risk.", raised_at=timezone.now()
        )
        for user in users:
            Notification.objects.create(user=user, alert=alert)
    return {"outsider": outsider}


@pytest.mark.parametrize(
    "who", ["clinician", "clinician2", "prescriber", "outsider", "peer_worker", "manager"]
)
def test_every_home_list_is_the_same_compiled_and_built_afresh(
    client, service, who, request, monkeypatch
):
    user = service["outsider"] if who == "outsider" else request.getfixturevalue(who)
    monkeypatch.setattr(compiled_query, "_SHAPES", {})
    client.force_login(user)
    with compiled_query.uncompiled():
        built = _lists(client.get(reverse("home")).context)
    compiled = _lists(client.get(reverse("home")).context)  # compiles
    again = _lists(client.get(reverse("home")).context)  # only executes
    assert compiled_query._SHAPES, "the home page did not go through the compiled lists"
    assert compiled == built
    assert again == built
    assert any(rows for rows, _total in built.values()), "nothing to compare"


def test_a_role_without_the_clinical_record_never_reuses_a_clinicians_lists(
    client, service, clinician, peer_worker, monkeypatch
):
    # The same list builder for both: a clinician compiles it first.
    monkeypatch.setattr(compiled_query, "_SHAPES", {})

    def build(user):
        return selectors.home_caseload(user)

    request = type("R", (), {"GET": {}})()
    mine = paging.bounded_compiled(request, "test.caseload", build, [clinician], param="c")
    assert mine.total > 0
    theirs = paging.bounded_compiled(request, "test.caseload", build, [peer_worker], param="c")
    with compiled_query.uncompiled():
        expected = paging.bounded_compiled(
            request, "test.caseload", build, [peer_worker], param="c"
        )
    assert theirs.total == expected.total == 0


def test_a_later_page_is_built_afresh_and_matches(client, team, clinician, clinician2):
    for _ in range(paging.SECTION_SIZE + 3):
        recent_episode(team, [clinician, clinician2], hours_ago=1)
    client.force_login(clinician)
    second = client.get(reverse("home"), {"caseload": 2}).context["caseload"]
    assert (second.number, second.total, len(second)) == (2, paging.SECTION_SIZE + 3, 3)
    first = client.get(reverse("home")).context["caseload"]
    assert {e.pk for e in first}.isdisjoint(e.pk for e in second)


def test_a_sentinel_that_reaches_the_sql_transformed_is_refused(team):
    when = datetime(2026, 5, 1, 12, tzinfo=UTC)
    shifted = compiled_query.sentinel(0, when)
    queryset = Episode.objects.filter(referral_received_at__gte=shifted + timedelta(days=1))
    with pytest.raises(RuntimeError, match="transformed"):
        compiled_query.compile_query(queryset, [shifted])
    # Used as it is, the same value is found and replaced.
    fine = compiled_query.compile_query(
        Episode.objects.filter(referral_received_at__gte=shifted), [shifted]
    )
    assert fine.slots == ((0, 0),)


@pytest.mark.parametrize(
    "build",
    [
        lambda v: User.objects.filter(username=v),  # the ORM gives a text column str(v)
        lambda v: User.objects.filter(username=str(v)),
    ],
)
def test_an_id_sentinel_that_reaches_the_sql_as_text_is_refused(team, build):
    """Kept as a constant, it would have answered the sentinel's rows for every request."""
    stand_in = compiled_query.sentinel(0, 42)
    with pytest.raises(RuntimeError, match="transformed"):
        compiled_query.compile_query(build(stand_in), [stand_in])


def test_a_query_that_can_match_nothing_compiles_to_no_sql(team):
    compiled = compiled_query.compile_query(Episode.objects.filter(pk__in=[]), [])
    assert compiled.sql is None
    assert compiled_query.instances(compiled, []) == []


def test_values_rows_are_converted_as_the_orm_converts_them(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=5)
    queryset = (
        Episode.objects.filter(team=team)
        .values("pk", "referral_received_at")
        .annotate(due=F("first_meeting_due_at"))
    )
    compiled = compiled_query.compile_query(queryset, [])
    [row] = compiled_query.rows(compiled, [])
    assert row == [episode.pk, episode.referral_received_at, episode.first_meeting_due_at]
    assert row[1].tzinfo is not None  # converted to an aware datetime, as the ORM gives it
    with pytest.raises(TypeError):
        compiled_query.instances(compiled, [])


def test_an_episodes_meetings_are_what_the_orm_prefetch_gives(service, team, clinician):
    def plain(episode):
        participants = Participant.objects.select_related("staff", "network_member").order_by(
            selectors.PERSON_FIRST, "pk"
        )
        return list(
            episode.meetings.prefetch_related(Prefetch("participants", queryset=participants))
            .annotate(
                utterance_count=selectors._count(Utterance.objects.filter(meeting=OuterRef("pk"))),
                decision_count=selectors._count(Decision.objects.filter(meeting=OuterRef("pk"))),
            )
            .order_by("scheduled_start", "pk")
        )

    def shown(meetings):
        return [
            (m.pk, m.status, m.utterance_count, m.decision_count,
             [(p.pk, str(p), p.invited, p.attended, p.meeting is m) for p in m.participants.all()])
            for m in meetings
        ]  # fmt: skip

    episodes = Episode.objects.filter(team=team)
    assert sum(len(plain(e)) for e in episodes) >= 4
    for episode in episodes:
        with CaptureQueriesContext(connection) as queries:
            compiled = shown(selectors.episode_meetings(episode))
        assert compiled == shown(plain(episode))
        assert len(queries) == 2  # the meetings and their participants, nothing per meeting
    # As the prefetch gives them: each meeting knows its episode, and a further filter keeps the
    # prefetch's order (the person first) and its joins.
    first = next(e for e in episodes if e.meetings.exists())
    meetings = selectors.episode_meetings(first)
    with CaptureQueriesContext(connection) as queries:
        assert all(m.episode is first for m in meetings)
    assert len(queries) == 0
    for meeting, reference in zip(meetings, plain(first), strict=True):
        with CaptureQueriesContext(connection) as queries:
            invited = [(p.pk, str(p)) for p in meeting.participants.filter(invited=True)]
        expected = [(p.pk, str(p)) for p in reference.participants.filter(invited=True)]
        assert invited == expected
        assert len(queries) == 1  # the filter's own query, staff and members joined


def _looked_up(find, *args):
    try:
        found = find(*args)
    except Http404:
        return "404"
    return (type(found).__name__, found.pk, str(found), getattr(found, "team_id", None))


def test_the_access_checks_and_the_banner_are_the_same_compiled_and_built_afresh(
    service, team, clinician, peer_worker, admin_user, monkeypatch
):
    """The episode and person look-ups behind every record page, and the identity banner, for
    every role, on people they may and may not open (Http404 / no banner both ways)."""
    monkeypatch.setattr(compiled_query, "_SHAPES", {})
    outsider = service["outsider"]
    mine = Episode.objects.filter(team=team).order_by("pk")
    theirs = Episode.objects.exclude(team=team).order_by("pk")
    peer_services.peer_assign(
        service_user=mine[0].service_user, peer=peer_worker, assigned_by=clinician,
        now=timezone.now(),
    )  # fmt: skip
    meeting = mine[2].meetings.order_by("pk").first()
    today = timezone.now().date()
    users = [clinician, outsider, peer_worker, admin_user]
    subjects = [
        *(("person", e.service_user_id) for e in (*mine[:2], *theirs)),
        *(("episode", e.pk) for e in (*mine[:2], *theirs)),
        ("meeting", meeting.pk),
        ("person", 999_999),
    ]

    def everything():
        out = []
        for user in users:
            for kind, object_id in subjects:
                out.append(person_banner_for(user, kind, object_id, today=today))
                if kind == "episode":
                    out.append(_looked_up(selectors.get_episode_for_user, user, object_id))
                if kind == "person":
                    out.append(_looked_up(get_service_user_for_user, user, object_id))
        return out

    with compiled_query.uncompiled():
        built = everything()
    compiled = everything()  # compiles
    assert compiled_query._SHAPES
    assert everything() == compiled == built  # and only executes
    assert None in built and "404" in built  # refusals were compared too
    assert any(isinstance(b, tuple) and b[0] == "ServiceUser" for b in built)


def test_a_value_with_no_sentinel_takes_the_plain_orm(team, clinician, clinician2, monkeypatch):
    monkeypatch.setattr(compiled_query, "_SHAPES", {})
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    assert selectors.get_episode_for_user(clinician, str(episode.pk)) == episode
    assert compiled_query._SHAPES == {}  # nothing compiled for a str id
    assert selectors.get_episode_for_user(clinician, episode.pk) == episode
    assert compiled_query._SHAPES


def test_the_episode_pages_summary_is_what_the_orm_gives(service, team, clinician, prescriber):
    """Core team, active network members, prescriptions (prescriber loaded) and the latest care
    plan version: compiled, four queries, whatever the episode holds."""
    from meetings.models import CarePlanVersion, CurrentMedication, Prescription
    from networks.models import NetworkMember

    now = timezone.now()
    full = Episode.objects.filter(team=team, closed_at__isnull=True).first()
    f.make_member(full.service_user)
    f.make_member(full.service_user, status=NetworkMember.Status.ENDED, ended_at=now)
    for version in (1, 2):
        CarePlanVersion.objects.create(
            episode=full, version=version, what_matters="x", actions="y", responsible="z",
            person_agreed=True, created_by=clinician,
        )  # fmt: skip
    for days, medicine in ((3, "Sertraline"), (1, "Mirtazapine")):
        on_the_list = CurrentMedication.objects.create(
            episode=full, medicine=medicine, source="gp_record", source_date=now.date(),
            recorded_at=now - timedelta(days=days, minutes=1), recorded_by=clinician,
        )  # fmt: skip
        Prescription.objects.create(
            episode=full, medicine=medicine, is_new=False, current_medication=on_the_list,
            is_antipsychotic=False, prescriber=prescriber, prescribed_at=now - timedelta(days=days),
        )  # fmt: skip

    def plain(episode):
        latest = episode.care_plans.order_by("-version").first()
        return (
            [(u.pk, str(u)) for u in episode.core_team.all()],
            len(selectors.network_members_for_invitation(episode)),
            [(p.pk, p.medicine, str(p.prescriber)) for p in
             episode.prescriptions.select_related("prescriber")],
            latest and (latest.pk, latest.version),
        )  # fmt: skip

    def compiled(episode):
        with CaptureQueriesContext(connection) as queries:
            summary = selectors.episode_summary(episode)
            shown = (
                [(u.pk, str(u)) for u in summary.core_team],
                summary.active_member_count,
                [(p.pk, p.medicine, str(p.prescriber)) for p in summary.prescriptions],
                summary.care_plan and (summary.care_plan.pk, summary.care_plan.version),
            )
        assert len(queries) == 4, "a query per prescriber or per core team member"
        return shown

    assert plain(full)[1] >= 1 and len(plain(full)[2]) == 2 and plain(full)[3][1] == 2
    for episode in Episode.objects.all():
        assert compiled(episode) == plain(episode)
