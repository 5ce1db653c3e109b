"""The staffing targets come from settings: a deployment sets its own, and a bad value stops
start-up naming the variable."""

from datetime import UTC, date, datetime

import pytest
from django.test import override_settings

from outcomes.dashboard.peer_and_staffing import staffing
from outcomes.dashboard.scope import Scope
from outcomes.tables import BUILDERS
from pod.foundation.models import TrainingRecord
from tests import factories as f
from tests.pod.test_configuration import start_django


@pytest.fixture
def scope(team):
    return Scope(
        team_ids=(team.pk,),
        start=date(2026, 1, 1),
        end=date(2026, 6, 30),
        now=datetime(2026, 6, 30, 12, tzinfo=UTC),
    )


def test_it_marks_each_team_against_the_configured_targets(
    team, clinician, clinician2, peer_worker, peer_volunteer, scope
):
    TrainingRecord.objects.create(
        user=clinician, course="POD", started_on=date(2024, 9, 1), completed_on=date(2025, 9, 1)
    )
    f.make_user("peer_volunteer", team)
    # One of two clinicians trained (50%), one peer worker, two volunteers.
    [row] = staffing(scope)
    assert (row["coverage_met"], row["peer_worker_met"], row["volunteers_met"]) == (
        True,
        True,
        False,
    )
    with override_settings(
        POD_TRAINED_STAFF_TARGET_PERCENT=60,
        POD_PEER_WORKERS_TARGET=2,
        POD_PEER_VOLUNTEERS_MIN=2,
        POD_PEER_VOLUNTEERS_MAX=3,
    ):
        [row] = staffing(scope)
        [table] = BUILDERS["staffing"]([row])  # the staffing table, as the page draws it
    assert (row["coverage_met"], row["peer_worker_met"], row["volunteers_met"]) == (
        False,
        False,
        True,
    )
    # Counts and "met / not met" in their own columns (issue 13.5: numbers a spreadsheet reads).
    assert table.headers[-5:] == [
        "60% trained?",
        "Peer workers",
        "2 or more peer workers?",
        "Volunteers",
        "2-3 volunteers?",
    ]


@pytest.mark.parametrize(
    "env,variable",
    [
        ({"POD_TRAINED_STAFF_TARGET_PERCENT": "half"}, "POD_TRAINED_STAFF_TARGET_PERCENT"),
        ({"POD_TRAINED_STAFF_TARGET_PERCENT": "150"}, "POD_TRAINED_STAFF_TARGET_PERCENT"),
        ({"POD_PEER_WORKERS_TARGET": "-1"}, "POD_PEER_WORKERS_TARGET"),
        ({"POD_PEER_VOLUNTEERS_MIN": "6"}, "POD_PEER_VOLUNTEERS_MIN"),
    ],
)
def test_it_refuses_a_bad_target_naming_the_variable(env, variable):
    result = start_django(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and variable in result.stderr
