"""Helpers for the outcome-import tests: files as text, and a job run through to the end."""

from __future__ import annotations

from datetime import UTC, datetime

from outcomes.importing import jobs
from outcomes.models import OutcomeImport
from tests import factories as f

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HEADER = (
    "nhs_number,trial_arm,timepoint_months,assessed_on,symptom_level,relapse,"
    "hospital_days,disability_benefit,neuroleptic_use,work_or_study\n"
)
A, B, C = (f.valid_nhs_number(s) for s in (943_476_591, 450_557_710, 401_023_213))


def row(
    nhs,
    months=0,
    on="2015-03-01",
    arm="POD",
    symptom="moderate",
    relapse="no",
    days="12",
    dla="no",
    neuro="yes",
    work="no",
):
    return f"{nhs},{arm},{months},{on},{symptom},{relapse},{days},{dla},{neuro},{work}\n"


def good_rows(a=A, b=B):
    """A at baseline and 24 months, B at baseline and 24 months."""
    return (
        row(a, 0, "2015-03-01")
        + row(a, 24, "2017-03-01", symptom="mild", days="0", neuro="no", work="yes")
        + row(b, 0, "2015-04-01", arm="TAU", symptom="severe")
        + row(b, 24, "2017-04-01", arm="TAU", symptom="severe", relapse="yes", days="40", dla="yes")
    )


def people(team, *numbers):
    return [f.make_service_user(team, nhs_number=n) for n in numbers]


def submit(
    text,
    team,
    *,
    user=None,
    mode="add",
    dates="iso",
    register_new=False,
    same_person=None,
    name="trial.csv",
    now=NOW,
    encoding="utf-8",
):
    data = text.encode(encoding) if isinstance(text, str) else text
    job, _ = jobs.import_submit(
        team=team,
        uploaded_by=user,
        file_name=name,
        data=data,
        mode=mode,
        date_format=dates,
        register_new=register_new,
        same_person=same_person,
        inline=True,
        now=now,
    )
    job.refresh_from_db()
    return job


def run_import(text, team, *, user=None, now=NOW, **options) -> OutcomeImport:
    """Upload, preview and (when nothing is refused) import, all in-process."""
    job = submit(text, team, user=user, now=now, **options)
    if job.status == OutcomeImport.Status.READY:
        jobs.import_start(job, user=user, now=now, inline=True)
        job.refresh_from_db()
    return job


def messages(job):
    return [(g["severity"], g["column"], g["message"], g["lines"]) for g in job.preview["groups"]]


def refused_lines(job):
    import csv
    import io

    return sorted(
        {
            int(r["line"])
            for r in csv.DictReader(io.StringIO(job.problems_csv))
            if r["severity"] == "refused"
        }
    )
