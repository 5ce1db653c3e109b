"""CSV import of outcome data: all or nothing, every bad row reported with its line number."""

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from networks.models import ServiceUser
from outcomes.importer import import_outcomes_text
from outcomes.models import OutcomeAssessment
from tests import factories as f

HEADER = (
    "nhs_number,trial_arm,timepoint_months,assessed_on,symptom_level,relapse,"
    "hospital_days,disability_benefit,neuroleptic_use,work_or_study\n"
)
A, B = f.valid_nhs_number(943_476_591), f.valid_nhs_number(450_557_710)


def good_rows():
    return (
        f"{A},POD,0,2015-03-01,moderate,no,12,no,yes,no\n"
        f"{A},POD,24,2017-03-01,mild,no,0,no,no,yes\n"
        f"{B},TAU,24,2017-04-01,severe,yes,40,yes,yes,no\n"
    )


def test_it_imports_a_good_file_creating_unknown_people(team):
    result = import_outcomes_text(HEADER + good_rows(), team=team, recorded_by=None)
    assert result.ok, result.errors
    assert (result.assessments, result.created_people) == (3, 2)
    person = ServiceUser.objects.get(nhs_number=A)
    assert (person.team, person.trial_arm, person.given_name) == (team, "POD", "Imported")
    assert person.date_of_birth is None  # unknown until the team meets them
    assert OutcomeAssessment.objects.get(service_user__nhs_number=B).hospital_bed_days == 40


@pytest.mark.hazard("HAZ-05.C3")
def test_it_imports_nothing_and_reports_every_bad_row(team):
    text = (
        HEADER
        + good_rows()
        + (
            "1234567890,POD,24,2017-03-01,mild,no,0,no,no,yes\n"  # line 5: check digit
            f"{B},XYZ,36,01/03/2017,fine,maybe,-1,no,no,yes\n"  # line 6: six problems
            f"{A},POD,24,2017-03-01,mild,no,0,no,no,yes\n"  # line 7: repeats line 3
        )
    )
    result = import_outcomes_text(text, team=team, recorded_by=None)
    assert not result.ok
    lines = [line for line, _reason in result.errors]
    assert set(lines) == {5, 6, 7}
    assert lines.count(6) == 6
    assert any("same person and time point as line 3" in r for _l, r in result.errors)
    assert OutcomeAssessment.objects.count() == 0 and ServiceUser.objects.count() == 0


@pytest.mark.hazard("HAZ-05.C3", "HAZ-11.C4")
def test_it_refuses_people_of_another_team_and_existing_assessments(team, other_team):
    f.make_service_user(other_team, nhs_number=A)
    import_outcomes_text(
        HEADER + f"{B},TAU,0,2015-01-01,mild,no,0,no,no,no\n", team=team, recorded_by=None
    )
    result = import_outcomes_text(HEADER + good_rows(), team=team, recorded_by=None)
    reasons = dict(result.errors)
    assert "another team" in reasons[2]
    assert not any(line == 4 for line, _r in result.errors)  # B at 24 months is new
    again = import_outcomes_text(
        HEADER + f"{B},TAU,0,2015-01-01,mild,no,0,no,no,no\n", team=team, recorded_by=None
    )
    assert "already recorded" in again.errors[0][1]


def test_it_names_missing_columns(team):
    result = import_outcomes_text("nhs_number,trial_arm\n1,POD\n", team=team, recorded_by=None)
    assert result.errors[0][0] == 1 and "timepoint_months" in result.errors[0][1]


def test_the_command_imports_into_a_named_team(team, tmp_path):
    path = tmp_path / "trial.csv"
    path.write_text(HEADER + good_rows())
    out = StringIO()
    call_command("import_outcomes", str(path), team=team.name, stdout=out)
    assert "Imported 3 assessment(s)" in out.getvalue()


@pytest.mark.hazard("HAZ-05.C3")
def test_the_command_fails_and_writes_nothing_on_a_bad_row(team, tmp_path):
    path = tmp_path / "trial.csv"
    path.write_text(HEADER + good_rows() + f"{B},TAU,12,2016-13-01,mild,no,0,no,no,no\n")
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_outcomes", str(path), team=team.name, stderr=err)
    assert "line 5: assessed_on" in err.getvalue()
    assert OutcomeAssessment.objects.count() == 0


def test_the_upload_page_lists_bad_rows(client, manager, team):
    client.force_login(manager)
    upload = SimpleUploadedFile(
        "t.csv",
        (HEADER + "x,POD,0,2015-01-01,mild,no,0,no,no,no\n").encode(),
        content_type="text/csv",
    )
    page = client.post(reverse("outcomes:import"), {"team": team.pk, "file": upload})
    assert page.status_code == 200
    assert b"Line 2: nhs_number" in page.content
    assert OutcomeAssessment.objects.count() == 0


def test_the_upload_page_refuses_another_team(client, manager, other_team):
    client.force_login(manager)
    upload = SimpleUploadedFile("t.csv", (HEADER + good_rows()).encode(), content_type="text/csv")
    page = client.post(reverse("outcomes:import"), {"team": other_team.pk, "file": upload})
    assert page.context["form"].errors["team"]
    assert OutcomeAssessment.objects.count() == 0
