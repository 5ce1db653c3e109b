"""The dashboards' compiled-query cache gives exactly what the plain ORM queries give.

outcomes/dashboard/query_cache.py relies on Django internals (its docstring lists them). Every
dashboard section is run here both ways, through the cache and as the plain ORM queries it
stands for (`uncached()`), on hand-built data of three teams in two trusts over two years, for
scopes of different teams and periods, and the results must be equal. A Django upgrade that
changes those internals fails here instead of showing wrong figures.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import Count
from django.test import override_settings

from meetings.models import CarePlanVersion, Episode
from networks.models import PeerContact
from outcomes import rules
from outcomes.dashboard import query_cache
from outcomes.dashboard.expressions import in_period
from outcomes.dashboard.scope import Scope
from outcomes.dashboard.sections import SECTION_NAMES, section
from outcomes.models import FidelityRating, OutcomeAssessment, SurveyResponse
from pod.foundation.models import TrainingRecord
from tests import factories as f
from tests.outcomes import builders as b

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
ANSWERS = ("definitely", "somewhat", "no", "na")


def _fill_team(team, *, people: int, seed: int) -> None:
    """`people` episodes over 2025-2026 with meetings, prescriptions, alerts, network members,
    peer contacts, care plans, assessments, fidelity ratings and survey answers, each team's
    a little different (`seed`), so that every section has figures to compare."""
    staff = [f.make_user("clinician", team) for _ in range(3)]
    prescriber = f.make_user("prescriber", team)
    peer = f.make_user("peer_worker", team)
    for _ in range(seed % 3 + 3):
        f.make_user("peer_volunteer", team)
    TrainingRecord.objects.create(
        user=staff[0], course="POD", started_on=date(2024, 1, 1), completed_on=date(2025, 1, 1)
    )
    for i in range(people):
        referral = datetime(2025, 1, 3, 9, tzinfo=UTC) + timedelta(days=41 * i + seed)
        late = (i + seed) % 3 == 0
        never = (i + seed) % 5 == 0
        # Of the episodes never met, some were closed before their first meeting was due (no
        # breach) and some after (a breach).
        closed_at = referral + timedelta(hours=12 if i % 2 else 60) if never and i % 3 else None
        ep = b.episode(
            team,
            referral=referral,
            held_after_hours=None if never else (30 + i if late else 2 + i),
            closed_at=closed_at,
            core=staff[:2],
        )
        if late or never:
            b.alert(ep, "breached", f"Breach {seed}-{i}", referral + timedelta(hours=25))
        members = [b.member(ep.service_user) for _ in range((i + seed) % 4)]
        for k in range(i % 4):
            meeting = b.meeting(
                ep,
                start=referral + timedelta(days=3 * k, hours=3),
                members=[(m, k % 2 == 0) for m in members],
                staff=staff[: 1 + k % 3],
            )
            if k % 2 == 0:
                FidelityRating.objects.create(
                    meeting=meeting,
                    rater=staff[0],
                    rated_at=meeting.actual_end,
                    **{field: (i + k + seed) % 4 for field, _ in rules.FIDELITY_ELEMENTS},
                )
        wrong = b.prescription(
            ep,
            prescriber,
            at=referral + timedelta(days=2),
            held_before=i % 4,
            override="Rapid response" if i % 4 == 1 else "",
        )
        if i % 4 == 2:
            b.alert(ep, "medication_violation", "Too few meetings", wrong.prescribed_at, wrong)
        PeerContact.objects.create(
            service_user=ep.service_user,
            peer=peer,
            contact_at=referral + timedelta(days=i % 9),
            mode="phone",
            duration_minutes=20,
            purpose="support",
        )
        plan = CarePlanVersion.objects.create(
            episode=ep,
            version=1,
            what_matters="x",
            actions="x",
            responsible="x",
            person_views="" if i % 3 else "Stay at home",
            person_involved=i % 2 == 0,
            person_agreed=True,
            created_by=staff[0],
        )
        CarePlanVersion.objects.filter(pk=plan.pk).update(created_at=referral + timedelta(days=1))
        person = ep.service_user
        person.trial_arm = "POD" if (i + seed) % 2 else "TAU"
        person.save(update_fields=["trial_arm"])
        OutcomeAssessment.objects.create(
            service_user=person,
            timepoint_months=24,
            assessed_on=referral.date() + timedelta(days=30),
            symptom_level=("none", "mild", "moderate", "severe")[i % 4],
            relapse=i % 3 == 0,
            hospital_bed_days=i * 2,
            disability_benefit=i % 2 == 0,
            neuroleptic_use=i % 5 == 0,
            work_or_study=i % 2 == 1,
        )
        SurveyResponse.objects.create(
            team=team,
            submitted_month=referral.date().replace(day=1),
            **{
                field: ANSWERS[(i + n + seed) % 4]
                for n, (field, _s, _national) in enumerate(rules.SURVEY_STATEMENTS)
            },
        )


@pytest.fixture
def teams(team, other_team):
    third = f.make_team(other_team.trust, name="Kent CRT")
    for seed, each in enumerate((team, other_team, third)):
        _fill_team(each, people=10 + 2 * seed, seed=seed)
    return team, other_team, third


def _scopes(teams):
    first, second, third = (t.pk for t in teams)
    return [
        Scope(team_ids=(first,), start=date(2025, 1, 1), end=date(2026, 6, 30), now=NOW),
        Scope(team_ids=(first, second), start=date(2025, 3, 1), end=date(2025, 12, 31), now=NOW),
        Scope(
            team_ids=(first, second, third),
            start=date(2025, 6, 1),
            end=date(2026, 3, 31),
            now=NOW - timedelta(days=60),
        ),
        Scope(team_ids=(third,), start=date(2025, 4, 15), end=date(2025, 9, 14), now=NOW),
        Scope(team_ids=(second,), start=date(2020, 1, 1), end=date(2020, 12, 31), now=NOW),
        Scope(team_ids=(), start=date(2025, 1, 1), end=date(2026, 6, 30), now=NOW),
    ]


# Every section with its lists cut short, and the sections that have lists with them whole.
CASES = [(name, 3) for name in SECTION_NAMES] + [
    (name, None) for name in ("first_meeting", "medication", "peer")
]


@pytest.mark.hazard("HAZ-11.C1")
@pytest.mark.parametrize("name,list_limit", CASES)
def test_every_section_through_the_cache_equals_the_plain_orm_queries(
    teams, name, list_limit, monkeypatch
):
    monkeypatch.setattr(query_cache, "_COMPILED", {})
    results = []
    for scope in _scopes(teams):
        with query_cache.uncached():
            plain = section(name, scope, timepoint_months=24, list_limit=list_limit)
        cached = section(name, scope, timepoint_months=24, list_limit=list_limit)
        assert cached == plain, (name, scope)
        # Run again: now from statements compiled for the first scope of the same shape.
        assert section(name, scope, timepoint_months=24, list_limit=list_limit) == plain
        results.append(repr(plain))
    assert query_cache._COMPILED, "the cached runs did not go through the cache"
    # The data gives each section different figures for different scopes, so equality above
    # compares figures, not empty results.
    assert len(set(results)) >= 4, results


def test_a_cached_query_sees_a_setting_named_in_its_key(teams):
    scope = _scopes(teams)[0]
    before = section("medication", scope)
    with override_settings(POD_MEETINGS_BEFORE_MEDICATION=1):
        after = section("medication", scope)
        with query_cache.uncached():
            assert section("medication", scope) == after
    assert after["new_with_meetings"] > before["new_with_meetings"]


def test_it_refuses_to_cache_a_query_that_transforms_a_scope_value(teams):
    def shifted(scope):
        # `now` minus a day is not among the values the cache knows how to substitute.
        return query_cache.Totals(
            Episode.objects.filter(
                in_period("referral_received_at", scope),
                referral_received_at__lt=scope.now - timedelta(days=1),
            ),
            {"n": Count("id")},
        )

    with pytest.raises(RuntimeError, match="transformed"):
        query_cache.totals(("test.shifted",), _scopes(teams)[0], shifted)
