"""The results file: what the last pytest run said about each test that carries a hazard marker.

Written by the pytest plugin `tests/hazard_plugin.py` at the end of every session (default
`test-artifacts/safety/results.json`), read by the safety-case tool. JSON, one object:

    {
      "schema": 1,
      "finished_at": "2026-03-02T09:00:00+00:00",   # UTC, ISO 8601
      "args": ["-ra", ...],                          # pytest's command-line arguments
      "exit_status": 0,                              # pytest's exit status
      "complete": true,                              # the whole suite was collected and selected
      "partial_reasons": [],                         # why not, when complete is false
      "collection_errors": [],                       # node ids of files that failed to import
      "tests": [
        {"nodeid": "tests/...::test_x", "controls": ["HAZ-01.C1"],
         "outcome": "passed", "message": ""}
      ]
    }

`tests` lists every collected test with a `@pytest.mark.hazard(...)` marker, selected or not.
`outcome` is one of OUTCOMES: "passed"; "failed" (the test body failed); "error" (a fixture's
setup or teardown failed); "skipped" (skipped or xfail: it proves nothing); "not run" (collected
but never run: deselected, or the session stopped first). `message` says why for anything but
"passed" (the skip reason or the first lines of the failure).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SCHEMA = 1
MARKER = "hazard"
OUTCOMES = ("passed", "failed", "error", "skipped", "not run")
DEFAULT_PATH = Path("test-artifacts/safety/results.json")


class ResultsError(Exception):
    """The results file cannot be used (missing, unreadable, or another schema)."""


@dataclass(frozen=True)
class TestResult:
    nodeid: str
    controls: tuple[str, ...]
    outcome: str
    message: str = ""

    __test__ = False  # not a pytest test class, whatever its name


@dataclass(frozen=True)
class TestRun:
    finished_at: str
    args: tuple[str, ...]
    exit_status: int | None
    complete: bool
    partial_reasons: tuple[str, ...]
    collection_errors: tuple[str, ...]
    tests: tuple[TestResult, ...]

    __test__ = False


def results_load(path: Path | str) -> TestRun:
    """Read a results file written by the plugin. Raises ResultsError saying what is wrong."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise ResultsError(
            f"{path} does not exist: run the whole test suite first (make test)"
        ) from exc
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ResultsError(f"{path} is not a schema-{SCHEMA} results file")
    try:
        tests = tuple(
            TestResult(
                nodeid=str(t["nodeid"]),
                controls=tuple(str(c) for c in t["controls"]),
                outcome=str(t["outcome"]),
                message=str(t.get("message", "")),
            )
            for t in data["tests"]
        )
        run = TestRun(
            finished_at=str(data["finished_at"]),
            args=tuple(str(a) for a in data.get("args", [])),
            exit_status=data.get("exit_status"),
            complete=bool(data["complete"]),
            partial_reasons=tuple(str(r) for r in data.get("partial_reasons", [])),
            collection_errors=tuple(str(e) for e in data.get("collection_errors", [])),
            tests=tests,
        )
    except (KeyError, TypeError) as exc:
        raise ResultsError(f"{path} is missing a field: {exc}") from exc
    unknown = {t.outcome for t in tests} - set(OUTCOMES)
    if unknown:
        raise ResultsError(f"{path} has unknown outcomes {sorted(unknown)}")
    return run
