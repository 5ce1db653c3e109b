"""The outcome import against the record: add, update and unchanged; the checks that refuse a
row (with its line) or warn; what an uploader may learn about people outside their teams; and
that its work is a fixed number of queries, whatever the number of rows."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from networks import validators
from networks.models import ServiceUser
from outcomes.importing import planning
from outcomes.importing.parsing import parse_file
from outcomes.importing.records import Facts, PersonFact
from outcomes.importing.values import read_rows
from outcomes.importing.writing import _assessment
from outcomes.models import OutcomeAssessment
from pod.foundation.audit_models import AuditEvent
from pod.foundation.models import TeamMembership
from tests import factories as f
from tests.outcomes.import_helpers import (
    HEADER,
    NOW,
    A,
    B,
    C,
    good_rows,
    messages,
    people,
    refused_lines,
    row,
    run_import,
    submit,
)


def assessment_of(nhs, months):
    return OutcomeAssessment.objects.get(service_user__nhs_number=nhs, timepoint_months=months)


@pytest.mark.hazard("HAZ-05.C3")
def test_it_imports_a_good_file_for_people_of_the_team(team, manager):
    people(team, A, B)
    job = run_import(HEADER + good_rows(), team, user=manager)
    assert job.status == "imported", job.preview
    assert (job.added, job.updated, job.unchanged, job.refused) == (4, 0, 0, 0)
    assert assessment_of(B, 24).hospital_bed_days == 40
    assert ServiceUser.objects.get(nhs_number=A).trial_arm == "POD"  # was blank: recorded
    assert assessment_of(A, 0).recorded_by == manager


@pytest.mark.hazard("HAZ-11.C13")
def test_a_cumulative_file_adds_only_its_new_rows(team, manager):
    people(team, A, B)
    run_import(HEADER + good_rows(), team, user=manager)
    later = run_import(HEADER + good_rows() + row(A, 12, "2016-03-01"), team, user=manager)
    assert later.status == "imported"
    assert (later.added, later.unchanged, later.updated) == (1, 4, 0)
    assert OutcomeAssessment.objects.count() == 5


@pytest.mark.hazard("HAZ-11.C13")
def test_add_mode_refuses_a_row_that_differs_from_the_record(team, manager):
    people(team, A, B)
    run_import(HEADER + good_rows(), team, user=manager)
    changed = good_rows().replace("2017-04-01,severe", "2017-04-01,mild")
    job = run_import(HEADER + changed, team, user=manager)
    assert job.status == "refused" and refused_lines(job) == [5]
    assert "use update mode" in messages(job)[0][2]
    assert "differs in symptom level" in job.problems_csv
    assert assessment_of(B, 24).symptom_level == "severe"


@pytest.mark.hazard("HAZ-11.C13")
def test_update_mode_shows_before_and_after_and_the_audit_names_the_uploader(team, manager):
    people(team, A, B)
    run_import(HEADER + good_rows(), team, user=manager)
    # The import job's own history row is audited too; the record's tables must be untouched.
    record = AuditEvent.objects.exclude(table_name="outcomes_outcomeimport")
    before = record.count()
    changed = good_rows().replace("2017-04-01,severe,yes,40", "2017-04-01,mild,yes,41")
    preview = submit(HEADER + changed, team, user=manager, mode="update")
    assert preview.status == "ready" and (preview.updated, preview.unchanged) == (1, 3)
    assert preview.preview["changes"][0]["changes"] == [
        ["symptom level", "severe", "mild"],
        ["hospital days", "40", "41"],
    ]
    assert record.count() == before  # nothing written to the record by the preview
    job = run_import(HEADER + changed, team, user=manager, mode="update")
    assert job.status == "imported" and job.updated == 1
    assert assessment_of(B, 24).symptom_level == "mild"
    event = AuditEvent.objects.get(table_name="outcomes_outcomeassessment", operation="UPDATE")
    assert event.user_id == manager.pk and event.context["outcome_import"] == job.pk
    assert (event.before["symptom_level"], event.after["symptom_level"]) == ("severe", "mild")
    assert sorted(event.changed_fields) == ["hospital_bed_days", "symptom_level"]


@pytest.mark.hazard("HAZ-05.C3", "HAZ-11.C4")
def test_it_imports_nothing_and_reports_every_bad_row(team, manager):
    people(team, A, B)
    text = (
        HEADER
        + good_rows()
        + (
            "1234567890,POD,24,2017-03-01,mild,no,0,no,no,yes\n"  # line 6: check digit
            f"{B},XYZ,36,01/03/2017,fine,maybe,-1,no,no,yes\n"  # line 7: six problems
            + row(A, 24, "2017-03-01")  # line 8: repeats line 3
        )
    )
    job = run_import(text, team, user=manager)
    assert job.status == "refused" and refused_lines(job) == [6, 7, 8]
    assert job.problems_csv.count("\n7,") == 6
    assert "line 3" in job.problems_csv
    assert OutcomeAssessment.objects.count() == 0


@pytest.mark.hazard("HAZ-11.C12")
def test_it_refuses_a_follow_up_before_baseline_or_outside_its_window(team, manager):
    people(team, A, B, C)
    text = HEADER + (
        row(A, 0, "2015-03-01")
        + row(A, 12, "2015-02-01")  # line 3: before baseline
        + row(A, 24, "2017-06-02")  # line 4: a day past 24 + 3 months
        + row(B, 0, "2015-03-01")
        + row(B, 12, "2015-12-01")  # first day of the window
        + row(B, 24, "2017-06-01")  # last day of the window
        + row(C, 12, "2016-03-01")  # line 8: no baseline anywhere: a warning
    )
    job = run_import(text, team, user=manager)
    assert refused_lines(job) == [3, 4]
    found = messages(job)
    assert (
        "refused",
        "assessed_on",
        "This follow-up is dated before the person's baseline assessment.",
        "3",
    ) in found
    assert any(m[3] == "4" and "more than 3 months" in m[2] for m in found)
    assert any(m[0] == "warning" and m[3] == "8" and "no baseline" in m[2] for m in found)
    good = run_import(HEADER + "".join(text.splitlines(True)[4:]), team, user=manager)
    assert good.status == "imported" and good.warned == 1


@pytest.mark.hazard("HAZ-11.C12")
def test_the_baseline_on_record_checks_a_later_file_and_a_new_baseline_checks_the_record(
    team, manager
):
    people(team, A)
    run_import(HEADER + row(A, 0, "2015-03-01") + row(A, 12, "2016-03-01"), team, user=manager)
    late = run_import(HEADER + row(A, 24, "2018-03-01"), team, user=manager)
    assert refused_lines(late) == [2]  # 36 months after the baseline on record
    moved = run_import(HEADER + row(A, 0, "2015-09-01"), team, user=manager, mode="update")
    assert refused_lines(moved) == [2]
    assert "follow-up on record would no longer fit" in moved.problems_csv
    assert assessment_of(A, 0).assessed_on == date(2015, 3, 1)


@pytest.mark.hazard("HAZ-11.C12")
def test_it_checks_the_relapse_date(team, manager):
    people(team, A)
    header = HEADER.strip() + ",relapse_on\n"
    text = header + (
        row(A, 0, "2015-03-01").strip()
        + ",\n"
        + row(A, 12, "2016-03-01", relapse="no").strip()
        + ",2016-01-01\n"  # 3: no relapse
        + row(A, 24, "2017-03-01", relapse="yes").strip()
        + ",2017-03-02\n"  # 4: after it
        + row(A, 60, "2020-03-01", relapse="yes").strip()
        + ",2015-02-01\n"  # 5: pre-baseline
    )
    job = run_import(text, team, user=manager)
    assert refused_lines(job) == [3, 4, 5]
    good = (
        header
        + row(A, 0, "2015-03-01").strip()
        + ",\n"
        + (row(A, 12, "2016-03-01", relapse="yes").strip() + ",2015-11-20\n")
    )
    assert run_import(good, team, user=manager).status == "imported"
    assert assessment_of(A, 12).relapse_on == date(2015, 11, 20)


def test_day_month_year_dates_only_when_the_uploader_says_so_and_14_point_0_days(team, manager):
    people(team, A)
    text = HEADER + row(A, 0, "01/03/2015", days="14.0") + row(A, 12, "29/02/2016")
    iso = run_import(text, team, user=manager)
    assert iso.status == "refused" and refused_lines(iso) == [2, 3]
    uk = run_import(text, team, user=manager, dates="uk")
    assert uk.status == "imported"
    assert assessment_of(A, 0).assessed_on == date(2015, 3, 1)
    assert assessment_of(A, 0).hospital_bed_days == 14


@pytest.mark.hazard("HAZ-05.C10")
def test_a_number_outside_your_teams_is_only_not_found_in_your_teams(team, other_team, manager):
    """Issue 12's door: the messages for a person of another team, with an arm and assessments,
    are the very messages for a number nobody holds."""
    elsewhere = f.make_service_user(other_team, nhs_number=A, trial_arm="TAU")
    OutcomeAssessment.objects.create(
        service_user=elsewhere,
        timepoint_months=0,
        assessed_on=date(2015, 3, 1),
        symptom_level="mild",
        relapse=False,
        hospital_bed_days=0,
        disability_benefit=False,
        neuroleptic_use=False,
        work_or_study=False,
    )
    known = run_import(
        HEADER + row(A, 0, "2015-03-01") + row(A, 12, "2015-01-01"), team, user=manager
    )
    unknown = run_import(
        HEADER + row(C, 0, "2015-03-01") + row(C, 12, "2015-01-01"), team, user=manager
    )
    assert known.problems_csv == unknown.problems_csv
    assert known.preview == unknown.preview
    assert messages(known) == [("refused", "nhs_number", "Not found in your teams.", "2\u20133")]
    for leak in ("Kent", "TAU", "another team", "already", "baseline"):
        assert leak not in known.problems_csv and leak not in str(known.preview)


def test_a_person_in_another_of_your_teams_is_named_with_that_team(team, trust, manager):
    second = f.make_team(trust, name="Early Intervention", kind="EIP")
    TeamMembership.objects.create(user=manager, team=second)
    f.make_service_user(second, nhs_number=A)
    job = run_import(HEADER + row(A), team, user=manager)
    assert "another of your teams" in messages(job)[0][2]
    assert "Early Intervention" in job.problems_csv


@pytest.mark.hazard("HAZ-05.C10")
def test_only_an_uploader_who_sees_every_team_may_register_people(team, manager, admin_user):
    refused = run_import(HEADER + good_rows(), team, user=manager, register_new=True)
    assert refused.status == "refused" and not refused.register_new
    assert ServiceUser.objects.count() == 0
    job = run_import(
        HEADER.strip()
        + ",given_name,family_name,date_of_birth\n"
        + row(A).strip()
        + ",Siobhán,O'Brien,1990-01-02\n"
        + row(B, arm="TAU").strip()
        + ",,,\n",
        team,
        user=admin_user,
        register_new=True,
    )
    assert job.status == "imported" and job.people_registered == 2
    named, placeholder = (
        ServiceUser.objects.get(nhs_number=A),
        ServiceUser.objects.get(nhs_number=B),
    )
    assert (named.given_name, named.family_name, named.date_of_birth) == (
        "Siobhán",
        "O'Brien",
        date(1990, 1, 2),
    )
    assert (placeholder.given_name, placeholder.family_name, placeholder.date_of_birth) == (
        "Imported",
        "Person",
        None,
    )
    assert (named.team, placeholder.trial_arm) == (team, "TAU")


@pytest.mark.hazard("HAZ-05.C10")
def test_a_different_name_or_birth_date_is_refused_until_confirmed(team, manager):
    f.make_service_user(
        team,
        nhs_number=A,
        given_name="Siobhán",
        family_name="O’Brien",
        date_of_birth=date(1990, 1, 2),
    )
    f.make_service_user(
        team, nhs_number=B, given_name="Sam", family_name="Jones", date_of_birth=date(1980, 5, 6)
    )
    header = HEADER.strip() + ",given_name,family_name,date_of_birth\n"
    text = header + (
        row(A).strip()
        + ",siobhan,O'BRIEN,1990-01-02\n"  # the same, written differently
        + row(B, arm="TAU").strip()
        + ",Sam,Jones,1980-06-05\n"  # line 3: another birth date
    )
    job = run_import(text, team, user=manager)
    assert job.status == "refused" and refused_lines(job) == [3]
    assert job.preview["identity"] == [
        {
            "line": 3,
            "nhs_number": f"{B[:3]} {B[3:6]} {B[6:]}",
            "nhs_digits": B,
            "person_id": ServiceUser.objects.get(nhs_number=B).pk,
            "file": ["Sam", "Jones", "1980-06-05"],
            "record": ["Sam", "Jones", "1980-05-06"],
        }
    ]
    confirmed = run_import(text, team, user=manager, same_person=[B])
    assert confirmed.status == "imported" and confirmed.warned == 1
    assert ServiceUser.objects.get(nhs_number=B).date_of_birth == date(1980, 5, 6)  # unchanged


@pytest.mark.hazard("HAZ-05.C1")
def test_it_refuses_whatever_networks_refuses_as_an_nhs_number(team, manager, monkeypatch):
    """The import asks networks' validator (issue 12 adds placeholder numbers to it): whatever
    it refuses, the import refuses, with its words."""
    candidates = ["9999999999", "0000000000", A, "1234567890", "943 476 5919"]
    for number in candidates:
        job = run_import(HEADER + row(number), team, user=manager, name=number)
        try:
            validators.validate_nhs_number(number.replace(" ", ""))
            refused_by_networks = False
        except ValidationError:
            refused_by_networks = True
        refused = "nhs_number" in job.problems_csv and "Not found in your teams" not in (
            job.problems_csv
        )
        assert refused == refused_by_networks, number

    # Whatever rule networks adopts next, the import refuses with networks' own words.
    def refuse_one_number(value):
        if value == A:
            raise ValidationError("This number is refused by a rule networks adopted.")

    people(team, A)
    monkeypatch.setattr(validators, "validate_nhs_number", refuse_one_number)
    job = run_import(HEADER + row(A), team, user=manager, name="new rule")
    assert messages(job) == [
        ("refused", "nhs_number", "This number is refused by a rule networks adopted.", "2")
    ]


def test_a_trial_arm_that_contradicts_the_record_is_refused(team, manager):
    f.make_service_user(team, nhs_number=A, trial_arm="TAU")
    job = run_import(HEADER + row(A, arm="POD"), team, user=manager)
    assert messages(job)[0][1:3] == ("trial_arm", "The trial arm differs from the arm on record.")


VALID_ROW = st.fixed_dictionaries(
    {
        "months": st.sampled_from([0, 12, 24, 60]),
        "symptom": st.sampled_from(["none", "mild", "moderate", "severe", "MILD"]),
        "relapse": st.sampled_from(["yes", "no", "Y", "0"]),
        "days": st.integers(0, 3660).map(str) | st.just("14.0"),
        "flags": st.lists(st.sampled_from(["yes", "no", "true", "n"]), min_size=3, max_size=3),
        "arm": st.sampled_from(["POD", "TAU", "pod"]),
    }
)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(values=VALID_ROW)
def test_every_row_the_planner_accepts_passes_the_models_full_clean(db, values):
    """The bulk write skips full_clean() per row; this shows it would pass."""
    on = {0: "2015-03-01", 12: "2016-03-01", 24: "2017-03-01", 60: "2020-03-01"}[values["months"]]
    text = HEADER + row(
        A,
        values["months"],
        on,
        arm=values["arm"],
        symptom=values["symptom"],
        relapse=values["relapse"],
        days=values["days"],
        dla=values["flags"][0],
        neuro=values["flags"][1],
        work=values["flags"][2],
    )
    rows, problems = read_rows(parse_file(text.encode()), day_first=False, now=NOW)
    person = PersonFact(1, A, 1, "T", "", "x", "", "y", None)
    plan = planning.build_plan(
        rows,
        problems,
        Facts(people={A: person}),
        planning.Options(team_id=1, update=False),
        rows_total=1,
    )
    assert not plan.refused, plan.problems
    assessment = _assessment(plan.planned[0].row, person_id=1, recorded_by_id=None)
    assessment.full_clean(exclude=["service_user"], validate_unique=False)


def test_the_import_makes_the_same_number_of_queries_for_10_and_400_rows(team, manager):
    def rows(count, offset):
        numbers = [f.valid_nhs_number(500_000_000 + offset + i * 13) for i in range(count // 2)]
        people(team, *numbers)
        return numbers, HEADER + "".join(
            good_rows(a, b) for a, b in zip(numbers[::2], numbers[1::2], strict=True)
        )

    counts = []
    for count, offset in ((8, 0), (400, 100_000)):
        _numbers, text = rows(count, offset)
        with CaptureQueriesContext(connection) as queries:
            job = run_import(text, team, user=manager, name=str(count))
        assert job.status == "imported" and job.added == count
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
