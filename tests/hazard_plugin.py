"""Pytest plugin: record what happened to every test that proves a clinical-safety control.

A test proves a control of the hazard log (`safety/hazards.toml`) by carrying its marker:

    @pytest.mark.hazard("HAZ-01.C1")              # one control
    @pytest.mark.hazard("HAZ-01.C1", "HAZ-08.C1")  # or several; markers may also be stacked,
    pytestmark = pytest.mark.hazard("HAZ-05.C1")  # or set for a whole module or class

At the end of every session this plugin writes, for each collected test with a marker, its node
id, the control ids it names and its outcome, to `test-artifacts/safety/results.json` under the
rootdir (`--hazard-results PATH` moves it). The file's format is described in
`pod/safety_case/results.py`; the safety-case tool (`python -m pod.safety_case`) judges it.

A partial run must not be judged as if it were the whole suite, so the plugin also says whether
the run was complete: every `testpaths` directory collected, nothing deselected (`-k`, `-m`,
`--deselect`), nothing ignored, not `--collect-only`. The tool refuses to judge an incomplete run
(it says so and exits 2). The old file is deleted when a session starts, so a crashed run never
leaves an earlier run's results behind to be judged.

Under pytest-xdist the workers collect and run the tests: each worker attaches the control ids to
its reports (as `user_properties`, which xdist carries to the controller) and hands its collected
and deselected lists to the controller at the end (`workeroutput`); only the controller writes.
Registered by `pytest_plugins` in tests/conftest.py; the marker is declared in pyproject.toml.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pod.safety_case.results import DEFAULT_PATH, MARKER, SCHEMA

_PROPERTY = "hazard_controls"  # the user_properties entry that carries a test's control ids
_MESSAGE_LINES = 12


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hazard", "clinical safety case (safety/hazards.toml)")
    group.addoption(
        "--hazard-results",
        default=None,
        metavar="PATH",
        help=f"where to write the hazard-marked tests' results (default: <rootdir>/{DEFAULT_PATH})",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(HazardRecorder(config), "hazard-recorder")


def _controls(item: pytest.Item) -> list[str]:
    """Every control id named by the item's hazard markers (module, class and function), in
    order, without repeats. A marker without arguments yields "" so the tool can name it."""
    found: list[str] = []
    for mark in item.iter_markers(MARKER):
        for arg in mark.args or ("",):
            text = arg if isinstance(arg, str) else repr(arg)
            if text not in found:
                found.append(text)
    return found


def _message(report: pytest.TestReport) -> str:
    """Why a test did not pass, in a line or a few: the skip reason or the failure's crash line."""
    if hasattr(report, "wasxfail"):
        return f"xfail: {report.wasxfail}" if report.wasxfail else "xfail"
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])  # (path, line, "Skipped: reason")
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return f"{crash.message} ({crash.path}:{crash.lineno})"
    lines = str(report.longreprtext or "").strip().splitlines()
    return "\n".join(lines[-_MESSAGE_LINES:])


class HazardRecorder:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.is_worker = hasattr(config, "workerinput")
        option = config.getoption("hazard_results")
        self.path = Path(option) if option else config.rootpath / DEFAULT_PATH
        self.collected: dict[str, list[str]] = {}  # nodeid -> control ids, collection order
        self.deselected: set[str] = set()
        self.deselected_count = 0
        self.collection_errors: list[str] = []
        self.outcomes: dict[str, tuple[str, str]] = {}  # nodeid -> (outcome, message)

    # --- collection ------------------------------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not self.is_worker:
            self.path.unlink(missing_ok=True)

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        controls = _controls(item)
        if controls:
            self.collected[item.nodeid] = controls
            item.user_properties.append((_PROPERTY, controls))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(report.nodeid or "<session>")

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected_count += len(items)
        self.deselected.update(item.nodeid for item in items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.is_worker:  # xdist sends workeroutput to the controller when the worker ends
            self.config.workeroutput["hazard"] = {
                "collected": self.collected,
                "deselected": sorted(self.deselected),
                "deselected_count": self.deselected_count,
                "collection_errors": self.collection_errors,
            }

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:  # xdist controller only
        data = getattr(node, "workeroutput", {}).get("hazard")
        if not data:
            return
        for nodeid, controls in data["collected"].items():
            self.collected.setdefault(nodeid, controls)
        self.deselected.update(data["deselected"])
        self.deselected_count = max(self.deselected_count, data["deselected_count"])
        for nodeid in data["collection_errors"]:
            if nodeid not in self.collection_errors:
                self.collection_errors.append(nodeid)

    # --- outcomes ---------------------------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        controls = dict(report.user_properties).get(_PROPERTY)
        if controls is None:
            return
        self.collected.setdefault(report.nodeid, list(controls))
        current = self.outcomes.get(report.nodeid)
        if report.when == "setup":
            if report.failed:
                self.outcomes[report.nodeid] = ("error", _message(report))
            elif report.skipped:
                self.outcomes[report.nodeid] = ("skipped", _message(report))
        elif report.when == "call":
            if hasattr(report, "wasxfail"):  # xfailed or xpassed: proves nothing either way
                self.outcomes[report.nodeid] = ("skipped", _message(report))
            elif report.failed:
                self.outcomes[report.nodeid] = ("failed", _message(report))
            elif report.skipped:
                self.outcomes[report.nodeid] = ("skipped", _message(report))
            else:
                self.outcomes[report.nodeid] = ("passed", "")
        elif report.when == "teardown" and report.failed:
            if current is None or current[0] == "passed":
                self.outcomes[report.nodeid] = ("error", _message(report))

    # --- the file ---------------------------------------------------------------------------

    def _partial_reasons(self) -> list[str]:
        config = self.config
        reasons = []
        if config.getoption("collectonly"):
            reasons.append("--collect-only: nothing ran")
        if self.deselected_count:
            reasons.append(
                f"{self.deselected_count} tests deselected (-k, -m, --deselect or similar)"
            )
        if config.getoption("ignore") or config.getoption("ignore_glob"):
            reasons.append("paths ignored with --ignore/--ignore-glob")
        if config.args_source != pytest.Config.ArgsSource.TESTPATHS:
            invoked = config.invocation_params.dir
            chosen = [
                (invoked / arg).resolve() for arg in config.args if "::" not in arg
            ]  # a node id (file::test) never covers a whole directory
            for testpath in config.getini("testpaths") or ["."]:
                wanted = (config.rootpath / testpath).resolve()
                if not any(path == wanted or path in wanted.parents for path in chosen):
                    reasons.append(
                        f"only {' '.join(config.args)} collected, not all of {testpath}/"
                    )
                    break
        return reasons

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.is_worker:
            return
        reasons = self._partial_reasons()
        tests = []
        for nodeid, controls in self.collected.items():
            outcome, message = self.outcomes.get(nodeid, ("not run", ""))
            if outcome == "not run":
                message = "deselected" if nodeid in self.deselected else "the session stopped first"
            tests.append(
                {"nodeid": nodeid, "controls": controls, "outcome": outcome, "message": message}
            )
        data = {
            "schema": SCHEMA,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "args": list(self.config.invocation_params.args),
            "exit_status": int(exitstatus),
            "complete": not reasons,
            "partial_reasons": reasons,
            "collection_errors": self.collection_errors,
            "tests": tests,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        temporary.write_text(json.dumps(data, indent=1) + "\n")
        temporary.replace(self.path)  # atomic: the tool never reads half a file
