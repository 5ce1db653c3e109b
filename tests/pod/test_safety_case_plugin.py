"""The hazard plugin (tests/hazard_plugin.py) and the whole loop: a small test suite is run by a
real pytest in a subprocess, the plugin writes its results file, and the safety-case tool judges
it. Removing the test of a control makes the safety case fail: that is what CI relies on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest

from pod.safety_case.cli import safety_case_run

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_LOG = ROOT / "tests" / "pod" / "safety_case_fixture.toml"

INI = """[pytest]
testpaths = suite
markers =
    hazard(*control_ids): proves controls of the hazard log
addopts = --strict-markers -p no:cacheprovider
"""

SUITE = """import pytest

pytestmark = pytest.mark.hazard("HAZ-01.C2")


@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")


@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown broke")


@pytest.mark.hazard("HAZ-01.C1")
def test_deadline_is_computed():
    assert 1 + 1 == 2


@pytest.mark.hazard("HAZ-01.C1")
@pytest.mark.parametrize("n", [1, 2])
def test_deadline_cases(n):
    assert n < 2, "two is too many"


@pytest.mark.skip(reason="no time today")
def test_skipped():
    pass


@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False


@pytest.mark.xfail(reason="known")
def test_xpass():
    pass


def test_error(broken):
    pass


def test_teardown_error(broken_teardown):
    pass


class TestGrouped:
    @pytest.mark.hazard("HAZ-01.C9")
    def test_typo(self):
        pass
"""

UNMARKED = """def test_unrelated():
    pass
"""


def pytest_run(folder: Path, *args: str) -> dict:
    """Run pytest with the hazard plugin on `folder`; return the results file it wrote."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTHONPATH=str(ROOT), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.hazard_plugin", "-q", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return json.loads((folder / "test-artifacts" / "safety" / "results.json").read_text())


@pytest.fixture
def suite(tmp_path):
    (tmp_path / "pytest.ini").write_text(INI)
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "test_marked.py").write_text(SUITE)
    (tmp_path / "suite" / "test_unmarked.py").write_text(UNMARKED)
    return tmp_path


def outcomes(results: dict) -> dict[str, str]:
    return {t["nodeid"].split("::", 1)[1]: t["outcome"] for t in results["tests"]}


EXPECTED = {
    "test_deadline_is_computed": "passed",
    "test_deadline_cases[1]": "passed",
    "test_deadline_cases[2]": "failed",
    "test_skipped": "skipped",
    "test_xfail": "skipped",  # an expected failure proves nothing, passing or not
    "test_xpass": "skipped",
    "test_error": "error",
    "test_teardown_error": "error",
    "TestGrouped::test_typo": "passed",
}


def test_it_records_the_outcome_and_controls_of_every_marked_test(suite):
    results = pytest_run(suite)
    assert results["complete"] is True and results["partial_reasons"] == []
    assert results["exit_status"] == 1  # a test failed
    assert outcomes(results) == EXPECTED  # the unmarked test is not listed
    controls = {t["nodeid"].split("::", 1)[1]: t["controls"] for t in results["tests"]}
    assert controls["test_deadline_is_computed"] == ["HAZ-01.C1", "HAZ-01.C2"]  # module + own
    assert controls["TestGrouped::test_typo"] == ["HAZ-01.C9", "HAZ-01.C2"]
    messages = {t["nodeid"].split("::", 1)[1]: t["message"] for t in results["tests"]}
    assert "two is too many" in messages["test_deadline_cases[2]"]
    assert "no time today" in messages["test_skipped"]
    assert "fixture broke" in messages["test_error"]
    assert "teardown broke" in messages["test_teardown_error"]


def test_it_gives_the_same_results_under_xdist(suite):
    results = pytest_run(suite, "-p", "xdist", "-n", "2")
    assert results["complete"] is True
    assert outcomes(results) == EXPECTED
    # What only the workers know (they collect and deselect) reaches the controller.
    results = pytest_run(suite, "-p", "xdist", "-n", "2", "-k", "not deadline_cases")
    assert results["partial_reasons"] == ["2 tests deselected (-k, -m, --deselect or similar)"]
    assert outcomes(results)["test_deadline_cases[1]"] == "not run"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["-k", "deadline"], "tests deselected"),
        (["suite/test_marked.py"], "only suite/test_marked.py collected, not all of suite/"),
        (["suite::nothing"], "not all of suite/"),
    ],
)
def test_it_says_when_a_run_was_not_the_whole_suite(suite, args, reason):
    results = pytest_run(suite, *args)
    assert results["complete"] is False
    assert any(reason in r for r in results["partial_reasons"]), results["partial_reasons"]


def test_it_says_which_tests_did_not_run_when_the_session_stops_early(suite):
    results = pytest_run(suite, "-x")
    assert results["complete"] is True  # the whole suite was collected: this run is judged
    assert outcomes(results)["test_deadline_cases[2]"] == "failed"
    assert outcomes(results)["test_skipped"] == "not run"


def test_it_records_a_file_that_could_not_be_collected(suite):
    (suite / "suite" / "test_marked.py").write_text("this is not python\n")
    results = pytest_run(suite)
    assert results["tests"] == []
    assert results["collection_errors"] == ["suite/test_marked.py"]


def test_it_leaves_no_earlier_results_behind_when_a_session_dies(suite):
    results_file = suite / "test-artifacts" / "safety" / "results.json"
    pytest_run(suite)
    assert results_file.exists()
    (suite / "suite" / "test_unmarked.py").write_text(
        "import os\n\n\ndef test_dies():\n    os._exit(3)\n"
    )
    with pytest.raises(FileNotFoundError):
        pytest_run(suite, "-k", "dies")  # the worker dies before the session can finish
    assert not results_file.exists()  # nothing stale for the tool to judge


GOOD_SUITE = """import pytest


@pytest.mark.hazard("HAZ-01.C1")
def test_the_deadline_is_24_hours_after_the_referral():
    assert 9 + 24 == 33


def test_something_else():
    pass
"""


def safety_case(folder: Path) -> tuple[int, str]:
    out = StringIO()
    status = safety_case_run(
        hazard_log=FIXTURE_LOG,
        results=folder / "test-artifacts" / "safety" / "results.json",
        template=ROOT / "safety" / "SAFETY_CASE.md",
        out=folder / "rendered",
        stdout=out,
    )
    return status, out.getvalue()


def test_removing_a_controls_test_makes_the_safety_case_fail(tmp_path):
    """The check CI runs after the whole suite: with the test that carries
    HAZ-01.C1's marker the safety case holds; delete that test and it fails, naming the control."""
    (tmp_path / "pytest.ini").write_text(INI)
    (tmp_path / "suite").mkdir()
    tests = tmp_path / "suite" / "test_deadline.py"
    tests.write_text(GOOD_SUITE)
    pytest_run(tmp_path)
    status, summary = safety_case(tmp_path)
    assert status == 0, summary
    assert "SAFETY CASE HOLDS" in summary
    document = (tmp_path / "rendered" / "SAFETY_CASE.md").read_text()
    assert "test_the_deadline_is_24_hours_after_the_referral` — passed | passed |" in document

    tests.write_text(GOOD_SUITE.split("@pytest.mark.hazard", 1)[0] + UNMARKED)
    pytest_run(tmp_path)
    status, summary = safety_case(tmp_path)
    assert status == 1
    assert 'HAZ-01.C1: software control with no test marked @pytest.mark.hazard("HAZ-01.C1")' in (
        summary
    )
    assert "**The safety case FAILS**" in (tmp_path / "rendered" / "SAFETY_CASE.md").read_text()


def test_a_partial_run_is_not_judged_even_when_it_misses_a_control(tmp_path):
    (tmp_path / "pytest.ini").write_text(INI)
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "test_deadline.py").write_text(GOOD_SUITE)
    pytest_run(tmp_path, "-k", "something_else")  # the control's test is deselected
    status, summary = safety_case(tmp_path)
    assert status == 2
    assert "NOT JUDGED: the last run was not the whole suite: 1 tests deselected" in summary
