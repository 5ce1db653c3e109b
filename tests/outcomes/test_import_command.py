"""`manage.py import_outcomes`: the upload page's engine on the command line."""

import csv
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from networks.models import ServiceUser
from outcomes import rules
from outcomes.models import OutcomeAssessment, OutcomeImport
from tests import factories as f
from tests.outcomes.import_helpers import HEADER, A, B, good_rows, people, row


def run(*args, **options):
    out, err = StringIO(), StringIO()
    call_command("import_outcomes", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def trial_file(tmp_path):
    def write(text, name="trial.csv", encoding="utf-8"):
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return str(path)

    return write


def test_it_prints_the_template_and_the_data_dictionary():
    out, _ = run(template=True)
    assert out.strip() == ",".join(rules.IMPORT_COLUMN_NAMES)
    out, _ = run(dictionary=True)
    assert [r[0] for r in csv.reader(StringIO(out))][1:] == list(rules.IMPORT_COLUMN_NAMES)


def test_it_registers_and_imports_with_register_new(team, trial_file):
    out, _ = run(trial_file(HEADER + good_rows()), team=team.name, register_new=True)
    assert "4 added" in out and "2 new person record(s)" in out
    assert ServiceUser.objects.get(nhs_number=A).given_name == "Imported"
    job = OutcomeImport.objects.get()
    assert job.from_command and job.uploaded_by is None and job.status == "imported"


def test_dry_run_previews_and_writes_nothing(team, trial_file):
    people(team, A, B)
    out, _ = run(trial_file(HEADER + good_rows()), team=team.name, dry_run=True)
    assert "4 row(s): 4 to add" in out and "Dry run: nothing was written." in out
    assert OutcomeAssessment.objects.count() == 0


@pytest.mark.hazard("HAZ-05.C3")
def test_it_fails_and_writes_nothing_on_a_bad_row(team, trial_file, tmp_path):
    people(team, A, B)
    path = trial_file(HEADER + good_rows() + row(B, 12, "2016-13-01", arm="TAU"))
    report = tmp_path / "problems.csv"
    with pytest.raises(CommandError, match="nothing was imported"):
        run(path, team=team.name, problems=str(report))
    assert OutcomeAssessment.objects.count() == 0
    assert "6,assessed_on,refused,Not a real date." in report.read_text()


def test_update_mode_uk_dates_and_a_re_run(team, trial_file):
    people(team, A, B)
    run(trial_file(HEADER + good_rows()), team=team.name)
    uk = (HEADER + good_rows()).replace("2017-04-01,severe", "01/04/2017,mild")
    uk = uk.replace("2015-03-01", "01/03/2015")
    out, _ = run(trial_file(uk, "uk.csv"), team=team.name, mode="update", dates="uk")
    assert "1 updated, 3 unchanged" in out
    assert "symptom level: severe -> mild" in out
    with pytest.raises(CommandError, match="already imported"):
        run(trial_file(uk, "uk.csv"), team=team.name, mode="update", dates="uk")


def test_it_reads_excels_windows_csv_with_semicolons(team, trial_file):
    f.make_service_user(team, nhs_number=A, family_name="Müller")
    text = (HEADER.strip() + ",family_name\n" + row(A).strip() + ",Müller\n").replace(",", ";")
    out, _ = run(trial_file(text, encoding="cp1252"), team=team.name, register_new=False)
    assert "1 added" in out


def test_it_names_a_missing_team(db, trial_file):
    with pytest.raises(CommandError, match="No team named"):
        run(trial_file(HEADER), team="Nobody")
