"""Judge the hazard log against the last test run: does every control stand on passing tests?

The safety case fails (exit status 1) when:
1. a hazard's stated initial or residual rating is not what the DCB0129 matrix gives for its
   severity × likelihood, or its residual risk is higher than its initial risk, or a hazard with
   a residual rating of 4 or 5 (unacceptable) is called mitigated or closed, or a closed hazard
   still has pending controls;
and, when the run was the whole suite,
2. a software control has no test carrying its marker;
3. a test that carries a control's marker (any kind of control) did not pass — it failed, had an
   error, was skipped or did not run;
4. a marker names a control id that is not in the log (or names none);
5. a test file could not be collected (its markers are unknown).

A run that was not the whole suite (the results file says `complete: false`), or no results file
at all, is not judged: the verdict says why and its exit status is 2, unless (1) already failed.
Pending items never count as controls and are never judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pod.safety_case.hazard_log import Control, HazardLog
from pod.safety_case.results import TestResult, TestRun

PASSED, FAILING, UNTESTED, NOT_JUDGED, NO_TEST_NEEDED = (
    "passed",
    "failing",
    "no test",
    "not judged",
    "no test needed",
)


@dataclass(frozen=True)
class Finding:
    """One reason the safety case fails. `subject` is a hazard id, control id or test node id."""

    subject: str
    problem: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.problem}"


@dataclass(frozen=True)
class ControlStatus:
    control: Control
    tests: tuple[TestResult, ...]
    state: str  # one of the states above


@dataclass(frozen=True)
class Verdict:
    judged: bool
    not_judged_because: str
    findings: tuple[Finding, ...]
    controls: dict[str, ControlStatus] = field(default_factory=dict)

    @property
    def exit_status(self) -> int:
        """0: the safety case holds; 1: it fails (findings); 2: not judged, nothing else wrong."""
        if self.findings:
            return 1
        return 0 if self.judged else 2


def rating_findings(log: HazardLog) -> list[Finding]:
    """Findings of kind (1) above: ratings and statuses that contradict the matrix."""
    findings = []
    for hazard in log.hazards:
        for name, risk in (("initial", hazard.initial), ("residual", hazard.residual)):
            if risk.rating != risk.computed_rating:
                findings.append(
                    Finding(
                        hazard.id,
                        f"{name} rating is {risk.rating}, but the DCB0129 matrix gives "
                        f"{risk.computed_rating} for {risk.severity} × {risk.likelihood}",
                    )
                )
        if hazard.residual.computed_rating > hazard.initial.computed_rating:
            findings.append(Finding(hazard.id, "residual risk is higher than the initial risk"))
        if hazard.residual.computed_rating >= 4 and hazard.status != "open":
            findings.append(
                Finding(
                    hazard.id,
                    f"residual rating {hazard.residual.computed_rating} is unacceptable, "
                    f"so the hazard cannot be {hazard.status}",
                )
            )
        if hazard.status == "closed" and hazard.pending:
            findings.append(Finding(hazard.id, "closed, but it still lists pending controls"))
    return findings


def safety_case_check(*, log: HazardLog, run: TestRun | None, why_no_run: str = "") -> Verdict:
    """Judge `log` against `run` (None: no usable results file, `why_no_run` says why)."""
    findings = rating_findings(log)
    controls = log.controls()
    tests_of: dict[str, list[TestResult]] = {cid: [] for cid in controls}
    for test in run.tests if run else ():
        for cid in test.controls:
            if cid in tests_of:
                tests_of[cid].append(test)
    judged = run is not None and run.complete
    if run is None:
        because = why_no_run or "no results file"
    elif not run.complete:
        because = "the last run was not the whole suite: " + "; ".join(run.partial_reasons)
    else:
        because = ""

    statuses = {}
    for cid, control in controls.items():
        tests = tuple(tests_of[cid])
        if not judged:
            state = NOT_JUDGED
        elif not tests:
            state = UNTESTED if control.needs_tests else NO_TEST_NEEDED
        elif all(t.outcome == "passed" for t in tests):
            state = PASSED
        else:
            state = FAILING
        statuses[cid] = ControlStatus(control=control, tests=tests, state=state)

    if judged and run is not None:
        for error in run.collection_errors:
            findings.append(Finding(error, "could not be collected, so its markers are unknown"))
        for cid, status in statuses.items():
            if status.state == UNTESTED:
                findings.append(
                    Finding(
                        cid, f'software control with no test marked @pytest.mark.hazard("{cid}")'
                    )
                )
            for test in status.tests:
                if test.outcome != "passed":
                    why = f" ({test.message.splitlines()[0]})" if test.message.strip() else ""
                    findings.append(Finding(cid, f"test {test.nodeid} {_said(test)}{why}"))
        for test in run.tests:
            for cid in test.controls:
                if cid not in controls:
                    named = f"unknown control id {cid!r}" if cid else "no control id"
                    findings.append(Finding(test.nodeid, f"its hazard marker names {named}"))
    return Verdict(
        judged=judged,
        not_judged_because=because,
        findings=tuple(findings),
        controls=statuses,
    )


def _said(test: TestResult) -> str:
    return {
        "failed": "failed",
        "error": "had an error",
        "skipped": "was skipped",
        "not run": "did not run",
    }[test.outcome]
