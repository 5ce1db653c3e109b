"""The benchmark's world and files: one team, its people, and N valid rows (four time points per
person, dates inside their windows, some relapse dates), as the import file and as the rows a
bare COPY loads. Deterministic (a seeded random), so every run imports the same bytes."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection

from networks.models import ServiceUser
from networks.rules import nhs_number_check_digit
from outcomes import rules
from pod.foundation.models import Team, TeamMembership, Trust, User

FIRST_BASELINE = date(2015, 1, 1)
# Days either side of the time point a follow-up falls: well inside every window.
SPREAD_DAYS = {12: 60, 24: 60, 60: 150}


@dataclass(frozen=True)
class World:
    team: Team
    manager: User
    person_id: dict[str, int]  # NHS number -> person id


def nhs_numbers(count: int, *, start: int = 600_000_000) -> list[str]:
    numbers, n = [], start
    while len(numbers) < count:
        check = nhs_number_check_digit(f"{n:09d}")
        if check is not None:
            numbers.append(f"{n:09d}{check}")
        n += 1
    return numbers


def arm_of(index: int) -> str:
    return "POD" if index % 2 else "TAU"


def build_world(people: int, *, arms: bool = True) -> World:
    """A trust, a team, its service manager and `people` people, inserted in bulk (not timed).
    With `arms`, each person's trial arm is on record (as after randomisation); without, the
    first import records it (an audited UPDATE of each person)."""
    trust = Trust.objects.create(name="Benchmark trust", code="BEN")
    team = Team.objects.create(trust=trust, name="Benchmark team", kind="CRT")
    manager = User.objects.create_user(
        username="bench-manager", password="not-used-0", role=User.Role.SERVICE_MANAGER
    )
    TeamMembership.objects.create(user=manager, team=team)
    ServiceUser.objects.bulk_create(
        ServiceUser(
            nhs_number=nhs,
            given_name="Bench",
            family_name=f"Person {i}",
            date_of_birth=date(1970, 1, 1) + timedelta(days=i % 15000),
            team=team,
            trial_arm=arm_of(i) if arms else "",
        )
        for i, nhs in enumerate(nhs_numbers(people))
    )
    ids = dict(ServiceUser.objects.filter(team=team).values_list("nhs_number", "id"))
    return World(team=team, manager=manager, person_id=ids)


def assessment_rows(world: World, rows: int, *, seed: int = 14) -> list[dict[str, object]]:
    """`rows` valid assessments: each person at baseline, 12, 24 and 60 months in turn."""
    rng = random.Random(seed)
    out: list[dict[str, object]] = []
    for i, nhs in enumerate(sorted(world.person_id)):
        baseline = FIRST_BASELINE + timedelta(days=i % 1800)
        previous = baseline
        arm = arm_of(i)
        for months in rules.OUTCOME_TIMEPOINTS:
            if len(out) == rows:
                return out
            if months == 0:
                on = baseline
            else:
                spread = SPREAD_DAYS[months]
                due = rules.add_months(baseline, months)
                on = due + timedelta(days=rng.randint(-spread, spread))
            relapse = months > 0 and rng.random() < 0.3
            relapse_on = None
            if relapse and rng.random() < 0.5:
                relapse_on = previous + timedelta(days=rng.randint(1, (on - previous).days))
            out.append(
                {
                    "nhs_number": nhs,
                    "person_id": world.person_id[nhs],
                    "trial_arm": arm,
                    "timepoint_months": months,
                    "assessed_on": on,
                    "symptom_level": rng.choice(rules.SYMPTOM_LEVELS),
                    "relapse": relapse,
                    "relapse_on": relapse_on,
                    "hospital_days": rng.choice([0, 0, 0, 3, 14, 40]),
                    "disability_benefit": rng.random() < 0.3,
                    "neuroleptic_use": rng.random() < 0.6,
                    "work_or_study": rng.random() < 0.4,
                }
            )
            previous = on
    if len(out) < rows:
        raise ValueError(f"{len(world.person_id)} people give at most {len(out)} rows")
    return out


def _yes(flag: object) -> str:
    return "yes" if flag else "no"


def import_file(rows: list[dict[str, object]]) -> bytes:
    """The rows as an upload: the template's columns, ISO dates, yes/no."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*rules.IMPORT_REQUIRED_COLUMNS, "relapse_on"])
    for r in rows:
        writer.writerow(
            [
                r["nhs_number"],
                r["trial_arm"],
                r["timepoint_months"],
                r["assessed_on"],
                r["symptom_level"],
                _yes(r["relapse"]),
                r["hospital_days"],
                _yes(r["disability_benefit"]),
                _yes(r["neuroleptic_use"]),
                _yes(r["work_or_study"]),
                r["relapse_on"] or "",
            ]
        )
    return out.getvalue().encode()


COPY_COLUMNS = (
    "service_user_id",
    "timepoint_months",
    "assessed_on",
    "symptom_level",
    "relapse",
    "relapse_on",
    "hospital_bed_days",
    "disability_benefit",
    "neuroleptic_use",
    "work_or_study",
    "created_at",
)


def copy_file(rows: list[dict[str, object]]) -> str:
    """The same rows as COPY ... FROM STDIN (CSV) takes them: the table's own columns."""
    out = io.StringIO()
    writer = csv.writer(out)
    for r in rows:
        writer.writerow(
            [
                r["person_id"],
                r["timepoint_months"],
                r["assessed_on"],
                r["symptom_level"],
                "t" if r["relapse"] else "f",
                r["relapse_on"] or "",
                r["hospital_days"],
                "t" if r["disability_benefit"] else "f",
                "t" if r["neuroleptic_use"] else "f",
                "t" if r["work_or_study"] else "f",
                "2026-01-01 00:00:00+00",
            ]
        )
    return out.getvalue()


def clear_assessments(team: Team) -> None:
    """Remove the team's assessments between runs (not timed; the audit keeps the deletes)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM outcomes_outcomeassessment WHERE service_user_id IN "
            "(SELECT id FROM networks_serviceuser WHERE team_id = %s)",
            [team.pk],
        )
