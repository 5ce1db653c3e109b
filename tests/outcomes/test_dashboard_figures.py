"""Each dashboard figure on small hand-built data whose answer is worked out in the comments."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings.models import CarePlanVersion, Meeting
from meetings.services.counting import episode_counted_meetings_refresh
from networks.models import NetworkMember, PeerContact
from outcomes import rules
from outcomes.dashboard.clinical_rules import first_meeting_rule, medication_rule
from outcomes.dashboard.meeting_figures import meeting_attendance, meetings_first_14_days
from outcomes.dashboard.outcome_figures import (
    care_plans,
    experience,
    fidelity_profile,
    outcomes_by_arm,
)
from outcomes.dashboard.peer_and_staffing import peer_work, staffing
from outcomes.dashboard.scope import Scope
from outcomes.dashboard.sections import dashboard
from outcomes.models import FidelityRating, OutcomeAssessment, SurveyResponse
from outcomes.selectors import assessments_follow_up
from pod.foundation.models import TrainingRecord
from tests import factories as f
from tests.outcomes import builders as b

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def scope(team):
    return Scope(team_ids=(team.pk,), start=date(2026, 1, 1), end=date(2026, 6, 30), now=NOW)


def at(day: str, hm: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{hm}:00+00:00")


@pytest.mark.hazard("HAZ-11.C1")
def test_it_reports_the_24_hour_rule(team, other_team, scope):
    b.episode(team, referral=at("2026-03-02"), held_after_hours=2)  # met
    b.episode(team, referral=at("2026-03-03"), held_after_hours=10)  # met
    late = b.episode(team, referral=at("2026-03-04"), held_after_hours=30)  # breach: late
    b.alert(late, "breached", "No first meeting: the person was in A&E.", at("2026-03-05"))
    never = b.episode(team, referral=at("2026-04-01"), held_after_hours=None)  # breach, open
    b.episode(team, referral=at("2026-06-30", "02:00"), held_after_hours=None)  # open, not due
    b.episode(team, referral=at("2025-12-01"), held_after_hours=50)  # before the period
    b.episode(other_team, referral=at("2026-03-02"), held_after_hours=50)  # not our team

    result = first_meeting_rule(scope)

    assert (result["referrals"], result["met"], result["breached"]) == (5, 2, 2)
    assert result["share_met"].percent == 50.0 and result["share_met"].n == 4
    assert result["open_clocks"] == 2
    assert result["median_hours"] == pytest.approx(10)  # of 2, 10, 30
    assert result["p90_hours"] == pytest.approx(26)  # 10 + 0.8 * (30 - 10)
    assert [r["id"] for r in result["breaches"]] == [never.pk, late.pk]
    assert result["breaches"][1]["breach_reason"] == "No first meeting: the person was in A&E."
    # Every month of the period, those without referrals too (issue 13.5).
    assert [(r["month"], r["met"], r["breached"]) for r in result["trend"]] == [
        ("2026-01", 0, 0),
        ("2026-02", 0, 0),
        ("2026-03", 2, 1),
        ("2026-04", 0, 1),
        ("2026-05", 0, 0),
        ("2026-06", 0, 0),
    ]


@pytest.mark.hazard("HAZ-11.C1", "HAZ-08.C2")
def test_it_counts_meetings_in_the_first_14_london_calendar_days(
    team, scope, clinician, clinician2
):
    two = [clinician, clinician2]
    # Referral Monday 2 March (GMT): days 1-14 are 2-15 March.
    first = b.episode(team, referral=at("2026-03-02"), held_after_hours=2)
    b.meeting(first, start=at("2026-03-02", "11:00"), staff=two)
    b.meeting(first, start=at("2026-03-07"), staff=two)
    b.meeting(first, start=at("2026-03-15", "23:30"), staff=two)  # day 14, late evening: counts
    b.meeting(first, start=at("2026-03-16", "00:30"), staff=two)  # day 15: does not
    b.meeting(first, start=at("2026-03-10"), staff=two, held=False)  # only scheduled: does not
    # Held, but not a network meeting (one member of staff): does not count (HAZ-11).
    b.meeting(first, start=at("2026-03-11"), staff=[clinician])
    # Referral 20 March; days 1-14 end at midnight London on 3 April, which is 23:00 UTC on
    # 2 April because the clocks went forward on 29 March.
    second = b.episode(team, referral=at("2026-03-20"), held_after_hours=10)
    b.meeting(second, start=at("2026-03-20", "19:00"), staff=two)
    b.meeting(second, start=at("2026-04-02", "22:30"), staff=two)  # 23:30 BST on day 14: counts
    b.meeting(second, start=at("2026-04-02", "23:30"), staff=two)  # 00:30 BST on day 15: no
    b.episode(team, referral=at("2026-04-01"), held_after_hours=None)  # none held
    b.episode(team, referral=at("2026-06-25"), held_after_hours=1)  # 14 days not over yet

    result = meetings_first_14_days(scope)

    assert result["episodes"] == 3
    mean = result["mean"]
    assert (mean.n, mean.mean) == (3, pytest.approx((3 + 2 + 0) / 3))
    # sd of 3, 2, 0 is √(7/3) = 1.5275; t(0.975; 2 df) = 4.3027; half-width 4.3027 × 1.5275 / √3
    # = 3.7946: from 1.667 - 3.795 (below 0, so 0: a count) to 5.461.
    assert (mean.lower, mean.upper) == pytest.approx((0.0, 5.4613), abs=1e-4)
    assert result["none"] == 1


@pytest.mark.hazard("HAZ-11.C1")
def test_it_reports_who_was_at_the_meetings(
    team, other_team, clinician, clinician2, prescriber, peer_worker, outsider, scope
):
    ep = b.episode(
        team, referral=at("2026-03-02"), held_after_hours=2, core=[clinician, clinician2]
    )
    sister = b.member(ep.service_user)
    b.meeting(
        ep, start=at("2026-03-02", "11:00"), members=[(sister, True)], staff=[clinician, clinician2]
    )  # members, core, two staff
    b.meeting(
        ep,
        start=at("2026-03-04"),
        members=[(sister, False)],
        staff=[prescriber],
        absent_staff=[clinician],
    )  # none of the three
    b.meeting(
        ep, start=at("2026-04-04"), members=[(sister, True)], staff=[clinician, peer_worker]
    )  # members, core, two staff
    b.meeting(ep, start=at("2026-04-06"), staff=[clinician], held=False)  # not held
    theirs = b.episode(other_team, referral=at("2026-03-02"), held_after_hours=2)
    b.meeting(theirs, start=at("2026-03-02", "12:00"), staff=[outsider])

    result = meeting_attendance(scope)

    assert (result["held"], result["members"], result["core"], result["two_staff"]) == (3, 2, 2, 2)
    assert result["share_members"].percent == pytest.approx(200 / 3)
    # Network meetings: the first and the third (the second had one member of staff).
    assert result["network"] == 2
    march = next(r for r in result["trend"] if r["month"] == "2026-03")
    assert (march["held"], march["members"], march["core"]) == (2, 1, 1)
    assert len(result["trend"]) == 6  # every month of the period, January to June


@pytest.mark.hazard("HAZ-11.C1", "HAZ-11.C40", "HAZ-03.C43")
def test_it_reports_the_medication_rule(team, prescriber, clinician, clinician2, scope):
    ep = b.episode(team, referral=at("2026-02-01"), held_after_hours=2)
    for day in ("2026-02-01", "2026-02-02", "2026-02-03"):
        b.meeting(ep, start=at(day, "12:00"), staff=[clinician, clinician2])
    # Held, one member of staff: not a network meeting, so not counted before a medicine.
    b.meeting(ep, start=at("2026-02-06", "08:00"), staff=[clinician])
    b.prescription(ep, prescriber, at=at("2026-02-05"), held_before=3)
    override = b.prescription(
        ep,
        prescriber,
        at=at("2026-02-05", "10:00"),
        held_before=1,
        override="Threatened to harm himself; sedation needed tonight.",
    )
    b.prescription(ep, prescriber, at=at("2026-02-06"), held_before=None)  # 3 held: computed
    b.prescription(ep, prescriber, at=at("2026-02-06", "10:00"), is_new=False, held_before=0)
    wrong = b.prescription(ep, prescriber, at=at("2026-02-07"), held_before=0)
    b.alert(
        ep,
        "medication_violation",
        "New medicine after 0 of 3 meetings.",
        at("2026-02-07"),
        prescription=wrong,
    )
    b.prescription(ep, prescriber, at=at("2025-12-07"), held_before=0)  # before the period

    result = medication_rule(scope)

    assert (result["prescriptions"], result["new"], result["new_with_meetings"]) == (5, 4, 2)
    assert result["share_with_meetings"].percent == 50.0
    assert result["overrides"] == 1 and result["violations"] == 1
    # Every prescription, counted by how it was made: 3 new + 1 continuing + 1 override = 5.
    assert (result["new_under_rule"], result["continuing"], result["overrides"]) == (3, 1, 1)
    assert len(result["prescription_list"]) == 5
    assert result["override_list"][0]["id"] == override.pk
    assert "sedation" in result["override_list"][0]["override_explanation"]
    assert result["violation_list"][0]["message"] == "New medicine after 0 of 3 meetings."


@pytest.mark.hazard("HAZ-11.C1")
def test_it_reports_peer_work(team, other_team, peer_worker, scope):
    person = f.make_service_user(team)
    ep = b.episode(team, referral=at("2026-03-02"), held_after_hours=2, person=person)
    joined = {
        "mother": ("2026-02-01", None, "family"),  # there at referral and now
        "friend": ("2026-04-01", None, "friend"),  # joined later: now only
        "uncle": ("2026-01-01", "2026-05-01", "family"),  # at referral only
        "gp": ("2026-01-01", None, "professional"),  # both, but professional
    }
    for name, (added, ended, category) in joined.items():
        m = b.member(
            person,
            name=name,
            category=category,
            status="ended" if ended else "active",
            ended_at=at(ended) if ended else None,
        )
        NetworkMember.objects.filter(pk=m.pk).update(added_at=at(added))
    full = f.make_service_user(team)
    b.episode(team, referral=at("2026-03-05"), held_after_hours=2, person=full)
    for _ in range(3):
        NetworkMember.objects.filter(pk=b.member(full).pk).update(added_at=at("2026-01-01"))
    for when in ("2026-03-03", "2026-03-10", "2026-05-01", "2025-12-01"):
        PeerContact.objects.create(
            service_user=person,
            peer=peer_worker,
            contact_at=at(when),
            mode="phone",
            duration_minutes=20,
            purpose="support",
        )
    stranger = f.make_service_user(other_team)
    PeerContact.objects.create(
        service_user=stranger,
        peer=peer_worker,
        contact_at=at("2026-03-03"),
        mode="phone",
        duration_minutes=20,
        purpose="support",
    )

    result = peer_work(scope)

    assert result["contacts"] == 3
    assert result["per_week"] == pytest.approx(3 * 7 / 181)
    assert result["episodes"] == 2
    assert result["mean_at_referral"].mean == pytest.approx((3 + 3) / 2)
    assert result["mean_now"].mean == pytest.approx((3 + 3) / 2)
    # Both people have 3 members: no spread, so the interval is the mean itself.
    assert (result["mean_now"].lower, result["mean_now"].upper) == pytest.approx((3, 3))
    assert result["thin_count"] == 1
    assert [r["episode_id"] for r in result["thin_list"]] == [ep.pk]
    assert result["thin_list"][0]["non_professional"] == 2


@pytest.mark.hazard("HAZ-11.C1")
def test_it_reports_training_and_peer_staffing(
    team, clinician, clinician2, prescriber, peer_worker, peer_volunteer, manager, scope
):
    TrainingRecord.objects.create(
        user=clinician, course="POD", started_on=date(2024, 9, 1), completed_on=date(2025, 9, 1)
    )
    TrainingRecord.objects.create(user=clinician2, course="POD", started_on=date(2025, 9, 1))
    TrainingRecord.objects.create(
        user=prescriber, course="IPS", started_on=date(2024, 9, 1), completed_on=date(2025, 9, 1)
    )

    [row] = staffing(scope)

    assert (row["clinical"], row["trained"]) == (3, 1)
    assert row["coverage"].percent == pytest.approx(100 / 3) and not row["coverage_met"]
    # A headcount of the team's staff, not an estimate: no interval.
    assert row["coverage"].lower is None and str(row["coverage"]) == "33% (n=3)"
    assert (row["peer_workers"], row["peer_worker_met"]) == (1, True)
    assert (row["volunteers"], row["volunteers_met"]) == (1, False)


def _assess(person, **kw):
    return OutcomeAssessment.objects.create(
        service_user=person,
        assessed_on=date(2026, 3, 1),
        **{
            "timepoint_months": 24,
            "symptom_level": "mild",
            "relapse": False,
            "hospital_bed_days": 0,
            "disability_benefit": False,
            "neuroleptic_use": False,
            "work_or_study": True,
            **kw,
        },
    )


@pytest.mark.hazard("HAZ-11.C1", "HAZ-11.C3")
def test_it_compares_pod_with_tau_and_suppresses_small_arms(team, scope):
    pod = [f.make_service_user(team, trial_arm="POD") for _ in range(5)]
    _assess(pod[0], symptom_level="none")
    _assess(pod[1])
    _assess(pod[2], hospital_bed_days=10)
    _assess(pod[3], relapse=True, hospital_bed_days=5, neuroleptic_use=True)
    _assess(
        pod[4],
        symptom_level="severe",
        hospital_bed_days=5,
        disability_benefit=True,
        work_or_study=False,
    )
    for _ in range(3):
        _assess(f.make_service_user(team, trial_arm="TAU"), relapse=True)
    _assess(f.make_service_user(team, trial_arm="POD"), timepoint_months=12)  # other time point

    result = outcomes_by_arm(scope, timepoint_months=24)
    rows = {r["key"]: r for r in result["rows"]}

    assert (result["n_pod"], result["n_tau"]) == (5, 3)
    # Wilson's interval for 4/5 is 37.6% to 96.4%, for 1/5 3.6% to 62.4%.
    assert str(rows["mild_or_none"]["POD"]) == "80% (95% CI 38 to 96%, n=5)"
    assert str(rows["relapse"]["POD"]) == "20% (95% CI 4 to 62%, n=5)"
    assert str(rows["disability"]["POD"]) == "20% (95% CI 4 to 62%, n=5)"
    assert str(rows["neuroleptic"]["POD"]) == "20% (95% CI 4 to 62%, n=5)"
    assert str(rows["work_or_study"]["POD"]) == "80% (95% CI 38 to 96%, n=5)"
    # Bed-days 0, 0, 10, 5, 5: mean 4, sd √17.5 = 4.183, t(0.975; 4) = 2.7764, half-width 5.194.
    bed_days = rows["bed_days"]["POD"]
    assert (bed_days.mean, bed_days.lower, bed_days.upper) == pytest.approx(
        (4.0, 0.0, 9.194), abs=1e-3
    )
    assert rows["relapse"]["TAU"].suppressed and rows["bed_days"]["TAU"].suppressed
    # TAU is suppressed, so is every difference (and its interval).
    assert all(r["difference"].suppressed and r["difference"].lower is None for r in rows.values())
    assert rows["mild_or_none"]["lapland_pod"] == "82%"


@pytest.mark.hazard("HAZ-11.C1", "HAZ-11.C3")
def test_it_reports_experience_in_aggregate_with_small_cells_suppressed(team, other_team, scope):
    involved = ["definitely", "definitely", "definitely", "somewhat", "no", "na"]
    family = ["definitely"] * 4 + ["na", "na"]
    for i in range(6):
        SurveyResponse.objects.create(
            team=team,
            submitted_month=date(2026, 3, 1),
            involved_in_care=involved[i],
            family_involved=family[i],
            agreed_care="definitely",
            understands_what_matters="no",
            helps_with_what_matters="no",
            feel_hopeful="no",
        )
    SurveyResponse.objects.create(
        team=other_team,
        submitted_month=date(2026, 3, 1),
        involved_in_care="no",
        family_involved="no",
        agreed_care="no",
        understands_what_matters="no",
        helps_with_what_matters="no",
        feel_hopeful="no",
    )

    rows = {r["field"]: r for r in experience(scope)}

    assert str(rows["involved_in_care"]["cell"]) == "60% (95% CI 23 to 88%, n=5)"
    assert rows["involved_in_care"]["national"] == 57
    assert rows["family_involved"]["cell"].suppressed  # only 4 answered
    assert str(rows["agreed_care"]["cell"]) == "100% (95% CI 61 to 100%, n=6)"


@pytest.mark.hazard("HAZ-11.C1")
def test_it_reports_care_plans_against_the_2013_audit(team, clinician, scope):
    ep = b.episode(team, referral=at("2026-03-02"), held_after_hours=2)
    for version, (involved, views) in enumerate(
        [(True, "I want to stay at home"), (True, ""), (True, "   "), (False, "No hospital")],
        start=1,
    ):
        plan = CarePlanVersion.objects.create(
            episode=ep,
            version=version,
            what_matters="x",
            actions="x",
            responsible="x",
            person_views=views,
            person_involved=involved,
            person_agreed=True,
            created_by=clinician,
        )
        CarePlanVersion.objects.filter(pk=plan.pk).update(created_at=at("2026-03-05"))

    result = care_plans(scope)

    assert result["plans"] == 4
    assert result["share_involved"].percent == 75.0
    assert result["share_views"].percent == 50.0
    assert (result["audit_involved"], result["audit_views"]) == (73, 78)


@pytest.mark.hazard("HAZ-11.C1")
def test_it_profiles_fidelity_by_element(team, clinician, clinician2, scope):
    ep = b.episode(team, referral=at("2026-03-02"), held_after_hours=2)
    m = b.meeting(ep, start=at("2026-03-02", "11:00"), staff=[clinician, clinician2])
    fields = [name for name, _ in rules.FIDELITY_ELEMENTS]
    FidelityRating.objects.create(
        meeting=m, rater=clinician, rated_at=NOW, **dict.fromkeys(fields, 2)
    )
    FidelityRating.objects.create(
        meeting=m, rater=clinician2, rated_at=NOW, **{**dict.fromkeys(fields, 3), "transparency": 1}
    )

    result = fidelity_profile(scope)

    assert result["ratings"] == 2
    assert result["overall"]["reflections"].mean == pytest.approx(2.5)
    assert result["overall"]["transparency"].mean == pytest.approx(1.5)
    # Two ratings, 2 and 3: sd 0.7071, t(0.975; 1) = 12.706, so 2.5 ± 6.35, clipped to the
    # scale's 0-3.
    assert (result["overall"]["reflections"].lower, result["overall"]["reflections"].upper) == (
        0,
        3,
    )
    assert [m["month"] for m in result["months"]] == ["2026-03"]


@pytest.mark.hazard("HAZ-11.C1")
def test_it_lists_assessments_due_and_overdue(team):
    person = f.make_service_user(team)
    b.episode(
        team,
        referral=at("2024-06-01"),
        held_after_hours=2,
        person=person,
        closed_at=at("2024-12-01"),
    )
    _assess(person, timepoint_months=0)
    rows = assessments_follow_up(team, today=date(2026, 6, 20))
    # Baseline done; 12 months (1 Jun 2025) overdue; 24 months (1 Jun 2026) due.
    assert [(r["timepoint_months"], r["status"]) for r in rows] == [(12, "overdue"), (24, "due")]
    assert rows[1]["due_on"] == date(2026, 6, 1)


def test_it_keeps_the_number_of_queries_constant_as_data_grows(
    team, clinician, clinician2, prescriber, scope, django_assert_num_queries
):
    def add_people(n):
        for i in range(n):
            ep = b.episode(
                team,
                referral=at("2026-03-02") + timedelta(days=i),
                held_after_hours=30 if i % 2 else 3,
                core=[clinician, clinician2],
            )
            member = b.member(ep.service_user)
            m = b.meeting(
                ep,
                start=ep.referral_received_at + timedelta(hours=3),
                members=[(member, True)],
                staff=[clinician],
            )
            b.prescription(
                ep,
                prescriber,
                at=m.actual_end,
                held_before=1,
                override="Safety" if i % 3 == 0 else "",
            )
            _assess(f.make_service_user(team, trial_arm="POD"))

    add_people(2)
    with CaptureQueriesContext(connection) as small:
        dashboard(scope)
    add_people(12)
    with django_assert_num_queries(len(small.captured_queries)):
        data = dashboard(scope)
    assert data["first_meeting"]["referrals"] == 14


@pytest.mark.hazard("HAZ-04.C43", "HAZ-11.C1")
def test_the_manager_sees_meetings_recorded_after_the_event(
    team, other_team, clinician, clinician2, scope
):
    ep = b.episode(team, referral=at("2026-03-02"), held_after_hours=2)
    prompt = b.meeting(ep, start=at("2026-03-02", "11:00"), staff=[clinician, clinician2])
    late = b.meeting(ep, start=at("2026-03-05", "11:00"), staff=[clinician, clinician2])
    Meeting.objects.filter(pk=prompt.pk).update(recorded_held_at=at("2026-03-02", "18:00"))
    # Ended 12:00 on 5 March, recorded 24 h 1 min later.
    Meeting.objects.filter(pk=late.pk).update(recorded_held_at=at("2026-03-06", "12:01"))
    episode_counted_meetings_refresh(ep, now=NOW)
    theirs = b.episode(other_team, referral=at("2026-03-02"), held_after_hours=2)
    other = b.meeting(theirs, start=at("2026-03-02", "12:00"), staff=[clinician, clinician2])
    Meeting.objects.filter(pk=other.pk).update(recorded_held_at=at("2026-03-09"))
    episode_counted_meetings_refresh(theirs, now=NOW)

    result = medication_rule(scope)

    assert result["late_records"] == 1
    (row,) = result["late_record_list"]
    assert (row["id"], row["counts_as_network_meeting"]) == (late.pk, True)
    assert row["arranged_in_advance"] is True  # late, not unarranged


@pytest.mark.hazard("HAZ-03.C43")
def test_a_continuing_prescription_of_an_entry_the_prescriber_just_listed_is_marked(
    team, prescriber, scope
):
    """Issue 10 review: a prescriber put a medicine on the current-medication list and continued
    it straight away: allowed, but the manager's list says so."""
    from meetings.services.prescriptions import current_medication_add, prescription_create
    from outcomes.tables import _medication

    ep = b.episode(team, referral=at("2026-03-02"), held_after_hours=None)
    listed_now = current_medication_add(
        episode=ep,
        medicine="Haloperidol",
        source="person",
        source_date=date(2026, 3, 3),
        recorded_by=prescriber,
        now=at("2026-03-03"),
    )
    known = current_medication_add(
        episode=ep,
        medicine="Sertraline",
        source="gp_record",
        source_date=date(2026, 3, 2),
        recorded_by=None,
        now=at("2026-03-02", "10:00"),
    )
    for entry, when in ((listed_now, at("2026-03-03", "09:05")), (known, at("2026-03-04"))):
        prescription_create(
            episode=ep,
            medicine="",
            continuing=entry,
            is_antipsychotic=False,
            prescriber=prescriber,
            prescribed_at=when,
            now=when,
        )
    figures = medication_rule(scope)
    rows = {r["medicine"]: bool(r["self_listed"]) for r in figures["prescription_list"]}
    assert rows == {"Haloperidol": True, "Sertraline": False}
    (table,) = [t for t in _medication(figures) if t.key == "prescriptions"]
    how = {row[4]: row[5] for row in table.rows}
    assert how["Haloperidol"] == "continuing, listed by the prescriber within 24 h"
    assert how["Sertraline"] == "continuing"
