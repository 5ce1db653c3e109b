"""The upload page and the job page: check, preview, import; downloads; the history; a page that
stays small whatever the file; and who may see which import."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from outcomes.importing import jobs
from outcomes.models import OutcomeAssessment, OutcomeImport
from pod.foundation.audit_models import RecordAccess
from pod.foundation.models import TeamMembership
from tests import factories as f
from tests.outcomes.import_helpers import HEADER, A, B, good_rows, people, row, run_import

UPLOAD = reverse("outcomes:import")


def upload(client, team, text, *, name="trial.csv", token=None, **fields):
    data = {"team": team.pk, "mode": "add", "date_format": "iso", **fields}
    data["file"] = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    if token:
        data["submission_token"] = token
    return client.post(UPLOAD, data)


def job_url(job, name="import_job"):
    return reverse(f"outcomes:{name}", args=[job.pk])


@pytest.mark.hazard("HAZ-05.C3")
def test_upload_checks_then_import_writes(client, manager, team):
    people(team, A, B)
    client.force_login(manager)
    response = upload(client, team, HEADER + good_rows())
    job = OutcomeImport.objects.get()
    assert response.status_code == 302 and response["Location"] == job_url(job)
    page = client.get(job_url(job)).content.decode()
    assert "4 to add" in page and "Nothing has been written yet" in page
    assert OutcomeAssessment.objects.count() == 0
    form = client.get(job_url(job)).context["start_form"]
    token = form.initial["submission_token"]
    done = client.post(job_url(job, "import_run"), {"submission_token": token})
    assert done.status_code == 302 and OutcomeAssessment.objects.count() == 4
    again = client.post(job_url(job, "import_run"), {"submission_token": token})  # double click
    assert again.status_code == 302 and OutcomeAssessment.objects.count() == 4
    history = client.get(UPLOAD).content.decode()
    assert "trial.csv" in history and job.file_sha256[:16] in history and "Imported" in history


def test_the_same_upload_twice_is_one_job(client, manager, team):
    people(team, A, B)
    client.force_login(manager)
    upload(client, team, HEADER + good_rows(), token="3f0c8a9e-0000-4000-8000-000000000001")
    upload(client, team, HEADER + good_rows(), token="3f0c8a9e-0000-4000-8000-000000000002")
    assert OutcomeImport.objects.count() == 1


def test_the_preview_shows_updates_side_by_side_and_logs_who_looked(client, manager, team):
    people(team, A, B)
    run_import(HEADER + good_rows(), team, user=manager)
    client.force_login(manager)
    upload(
        client,
        team,
        HEADER + good_rows().replace("2017-04-01,severe", "2017-04-01,mild"),
        mode="update",
    )
    job = OutcomeImport.objects.get(mode="update")
    before = RecordAccess.objects.count()
    page = client.get(job_url(job)).content.decode()
    assert "<del>severe</del>" in page and "<ins>mild</ins>" in page
    logged = RecordAccess.objects.order_by("-id").first()
    assert RecordAccess.objects.count() == before + 1 and logged.user == manager
    assert logged.service_user.nhs_number == B


@pytest.mark.hazard("HAZ-05.C10")
def test_a_person_confirmed_as_the_same_is_imported(client, manager, team):
    f.make_service_user(team, nhs_number=A, given_name="Ann", family_name="Lee")
    client.force_login(manager)
    text = HEADER.strip() + ",given_name,family_name\n" + row(A).strip() + ",Anne,Leigh\n"
    upload(client, team, text)
    job = OutcomeImport.objects.get()
    page = client.get(job_url(job))
    assert job.status == "refused" and b"Anne Leigh" in page.content and b"Ann Lee" in page.content
    token = page.context["same_person_form"].initial["submission_token"]
    client.post(job_url(job, "import_same_person"), {"same_person": [A], "submission_token": token})
    job.refresh_from_db()
    assert job.status == "ready" and job.same_person == [A]


@pytest.mark.hazard("HAZ-11.C12")
def test_the_page_of_20000_bad_rows_stays_small(
    client, manager, team, monkeypatch, django_capture_on_commit_callbacks
):
    people(team, A)
    # Two faults taking turns: each kind of problem is on every other line (10,000 ranges).
    bad = "".join(
        row(f"X{i:09d}", 12, "2015-03-01") if i % 2 else row(A, 12, "2026-13-01")
        for i in range(20_000)
    )
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, team, HEADER + bad)
    job = OutcomeImport.objects.get()
    assert response.status_code == 302 and job.status == "refused" and job.refused == 20_000
    page = client.get(job_url(job))
    assert len(page.content) < 40_000, len(page.content)  # 15.7 MB before this page was capped
    text = page.content.decode()
    assert "2, 4, 6, 8," in text and "and 9980 more" in text  # 20 ranges, then a count
    report = client.get(job_url(job, "import_problems"))
    assert report["Content-Type"].startswith("text/csv")
    lines = report.content.decode().splitlines()
    assert lines[0] == "line,column,severity,message,detail" and len(lines) == 1 + 20_000
    assert lines[1:3] == [
        "2,assessed_on,refused,Not a real date.,2026-13-01",
        "3,nhs_number,refused,Enter a valid 10-digit NHS number (the last digit is a check "
        "digit).,X000000001",
    ]


def test_the_template_and_dictionary_download(client, manager):
    client.force_login(manager)
    template = client.get(reverse("outcomes:import_template"))
    assert template.content.decode().startswith("nhs_number,trial_arm,timepoint_months")
    dictionary = client.get(reverse("outcomes:import_dictionary")).content.decode()
    assert "relapse_on,date," in dictionary and "hospital_bed_days" in dictionary
    page = client.get(UPLOAD).content.decode()
    assert "Data dictionary" in page and "<code>relapse_on</code>" in page


def test_the_progress_bar_polls_while_running_then_reloads(client, manager, team):
    people(team, A, B)
    client.force_login(manager)
    job, _ = jobs.import_submit(
        team=team,
        uploaded_by=manager,
        file_name="big.csv",
        data=(HEADER + good_rows()).encode(),
        mode="add",
        date_format="iso",
        inline=False,
        now=datetime.now(UTC),
    )
    page = client.get(job_url(job)).content.decode()
    assert f'hx-get="{job_url(job, "import_progress")}"' in page and "<progress" in page
    assert "You may close this page" in page
    jobs.import_preview_run(job.pk, now=datetime.now(UTC))
    done = client.get(job_url(job, "import_progress"))
    assert done["HX-Refresh"] == "true"


def test_another_teams_import_does_not_exist_for_you(client, manager, team, other_team):
    stranger = f.make_user("service_manager", other_team)
    people(other_team, A)
    job = run_import(HEADER + row(A), other_team, user=stranger)
    client.force_login(manager)
    for name in ("import_job", "import_progress", "import_problems"):
        assert client.get(job_url(job, name)).status_code == 404
    assert client.post(job_url(job, "import_run")).status_code == 404
    assert "trial.csv" not in client.get(UPLOAD).content.decode()
    bad = upload(client, other_team, HEADER + row(A))
    assert bad.context["form"].errors["team"]


def test_only_administrators_are_offered_registering_new_people(client, manager, admin_user):
    client.force_login(manager)
    assert "register_new" not in client.get(UPLOAD).context["form"].fields
    client.force_login(admin_user)
    assert "register_new" in client.get(UPLOAD).context["form"].fields


@pytest.mark.hazard("HAZ-05.C10")
def test_a_colleague_sees_the_import_in_the_history_but_not_what_its_uploader_could_see(
    client, manager, team, trust
):
    """The uploader's preview names a team the colleague does not belong to."""
    second = f.make_team(trust, name="Early Intervention", kind="EIP")
    TeamMembership.objects.create(user=manager, team=second)
    f.make_service_user(second, nhs_number=A)
    job = run_import(HEADER + row(A), team, user=manager)
    assert "Early Intervention" in job.problems_csv  # the uploader's own teams
    colleague = f.make_user("service_manager", team)
    client.force_login(colleague)
    for name in ("import_job", "import_problems", "import_progress"):
        assert client.get(job_url(job, name)).status_code == 404
    history = client.get(UPLOAD).content.decode()
    assert "trial.csv" in history and job_url(job) not in history
    upload(client, team, HEADER + row(A))  # the same file, checked again as the colleague's
    job.refresh_from_db()
    assert job.uploaded_by == colleague and "Early Intervention" not in job.problems_csv
    assert "Not found in your teams." in job.problems_csv
