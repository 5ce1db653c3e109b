"""Render the safety case: the hand-written `safety/SAFETY_CASE.md` with its generated sections
filled in, and a short plain-text summary for the terminal and CI log.

The hand-written document marks each generated section with a block

    <!-- safety_case: NAME -->
    (anything: replaced in the rendered copy)
    <!-- /safety_case -->

where NAME is one of SECTIONS. Every section must appear exactly once, so the document and the
tool cannot drift apart silently (TemplateError otherwise).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from pod.safety_case import check as c
from pod.safety_case.hazard_log import Hazard, HazardLog, Risk
from pod.safety_case.matrix import (
    ACCEPTABILITY,
    LIKELIHOOD_MEANING,
    LIKELIHOODS,
    RISK_MATRIX,
    SEVERITIES,
    SEVERITY_MEANING,
)
from pod.safety_case.results import TestResult, TestRun

_BLOCK = re.compile(
    r"^<!-- safety_case: (?P<name>[a-z-]+) -->\n.*?^<!-- /safety_case -->$", re.M | re.S
)


class TemplateError(Exception):
    """The hand-written document's generated-section markers are wrong."""


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _risk(risk: Risk) -> str:
    return f"{risk.severity} × {risk.likelihood} = **{risk.rating}**"


def _verdict(log: HazardLog, verdict: c.Verdict, run: TestRun | None) -> str:
    if run is not None:
        passed = sum(t.outcome == "passed" for t in run.tests)
        ran = (
            f"Test run finished {run.finished_at} (pytest exit status {run.exit_status}): "
            f"{len(run.tests)} tests carry hazard markers, {passed} passed."
        )
    else:
        ran = "No test run to judge."
    if verdict.findings:
        head = f"**The safety case FAILS** — {len(verdict.findings)} problem(s):"
        lines = [head, "", *(f"- `{f.subject}`: {_cell(f.problem)}" for f in verdict.findings)]
        if not verdict.judged:
            lines += ["", f"The tests were not judged: {verdict.not_judged_because}."]
    elif not verdict.judged:
        lines = [
            f"**NOT JUDGED**: {verdict.not_judged_because}. Run the whole suite (`make test` "
            "with no arguments, as CI does) and render again."
        ]
    else:
        lines = [
            "**The safety case holds**: every software control has tests, every test that "
            "carries a control's marker passed, and every rating agrees with the DCB0129 matrix."
        ]
    return "\n".join([*lines, "", ran])


def _risk_matrix(log: HazardLog, verdict: c.Verdict, run: TestRun | None) -> str:
    head = "| Likelihood ↓ / Severity → | " + " | ".join(SEVERITIES) + " |"
    rows = [head, "|---|" + ":-:|" * len(SEVERITIES)]
    for likelihood in reversed(LIKELIHOODS):
        cells = [str(RISK_MATRIX[likelihood][s]) for s in SEVERITIES]
        rows.append(f"| **{likelihood}** | " + " | ".join(cells) + " |")
    rows += ["", "| Rating | Acceptability |", "|:-:|---|"]
    rows += [f"| {n} | {text} |" for n, text in sorted(ACCEPTABILITY.items(), reverse=True)]
    rows += ["", "| Severity | Meaning |", "|---|---|"]
    rows += [f"| {s} | {SEVERITY_MEANING[s]} |" for s in SEVERITIES]
    rows += ["", "| Likelihood | Meaning |", "|---|---|"]
    rows += [f"| {lk} | {LIKELIHOOD_MEANING[lk]} |" for lk in LIKELIHOODS]
    return "\n".join(rows)


def _control_counts(hazard: Hazard, verdict: c.Verdict) -> str:
    states = Counter(verdict.controls[ctl.id].state for ctl in hazard.controls)
    kinds = Counter(ctl.kind for ctl in hazard.controls)
    kind_text = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    if not verdict.judged:
        return f"{kind_text}; not judged"
    bad = states[c.FAILING] + states[c.UNTESTED]
    return f"{kind_text}; " + (f"**{bad} failing**" if bad else "all passing")


def _hazard_table(log: HazardLog, verdict: c.Verdict, run: TestRun | None) -> str:
    rows = [
        "| Id | Hazard | Initial risk | Controls | Pending | Residual risk | Status |",
        "|---|---|---|---|:-:|---|---|",
    ]
    for h in log.hazards:
        rows.append(
            f"| [{h.id}](#{h.id.lower()}) | {_cell(h.title)} | {_risk(h.initial)} | "
            f"{_control_counts(h, verdict)} | {len(h.pending)} | {_risk(h.residual)} | "
            f"{h.status} |"
        )
    return "\n".join(rows)


def _test_groups(tests: tuple[TestResult, ...]) -> list[str]:
    """One line per test function: parametrised cases are counted, not listed one by one."""
    groups: dict[str, list[TestResult]] = {}
    for test in tests:
        groups.setdefault(test.nodeid.split("[", 1)[0], []).append(test)
    lines = []
    for name, cases in groups.items():
        outcomes = Counter(t.outcome for t in cases)
        said = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items()))
        label = said if len(cases) > 1 else cases[0].outcome
        lines.append(f"`{name}` — {label}")
    return lines


def _hazards(log: HazardLog, verdict: c.Verdict, run: TestRun | None) -> str:
    parts = []
    for h in log.hazards:
        causes = "\n".join(f"  - {_cell(cause)}" for cause in h.causes)
        parts += [
            f"### {h.id}",
            "",
            f"**{_cell(h.title)}**",
            "",
            f"- Causes:\n{causes}",
            f"- Effect on the person: {_cell(h.effect)}",
            f"- Initial risk: {_risk(h.initial)}",
            f"- Residual risk (controls below, pending items not counted): {_risk(h.residual)}",
            f"- Status: {h.status}",
            "",
            "| Control | Kind | Description | Tests (outcome in the last run) | Status |",
            "|---|---|---|---|---|",
        ]
        for ctl in h.controls:
            status = verdict.controls[ctl.id]
            tests = _test_groups(status.tests)
            if not tests:
                tests = [f"— {_cell(ctl.evidence)}" if ctl.evidence else "—"]
            shown = (
                status.state.upper() if status.state in (c.FAILING, c.UNTESTED) else status.state
            )
            parts.append(
                f"| {ctl.id} | {ctl.kind} | {_cell(ctl.description)} | "
                f"{'<br>'.join(tests)} | {shown} |"
            )
        if h.pending:
            parts += ["", "Planned, not yet a control (not counted in the residual risk):", ""]
            parts += [f"- {_cell(item)}" for item in h.pending]
        parts.append("")
    return "\n".join(parts).rstrip()


def _residual_summary(log: HazardLog, verdict: c.Verdict, run: TestRun | None) -> str:
    by_rating = Counter(h.residual.rating for h in log.hazards)
    rows = ["| Residual rating | Hazards | Acceptability |", "|:-:|:-:|---|"]
    for rating in sorted(by_rating, reverse=True):
        rows.append(f"| {rating} | {by_rating[rating]} | {ACCEPTABILITY[rating]} |")
    statuses = Counter(h.status for h in log.hazards)
    rows += [
        "",
        "Status: " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) + ".",
        f"Pending controls (planned, not yet counted): {sum(len(h.pending) for h in log.hazards)}.",
    ]
    high = [h for h in log.hazards if h.residual.rating >= 3]
    if high:
        rows += ["", "Hazards whose residual risk is still undesirable (3) or worse:", ""]
        rows += [
            f"- {h.id} {_cell(h.title)}: {_risk(h.residual)}; {len(h.pending)} pending"
            for h in high
        ]
    return "\n".join(rows)


SECTIONS: dict[str, Callable[[HazardLog, c.Verdict, TestRun | None], str]] = {
    "verdict": _verdict,
    "risk-matrix": _risk_matrix,
    "hazard-table": _hazard_table,
    "hazards": _hazards,
    "residual-summary": _residual_summary,
}


def document_render(
    *, template: str, log: HazardLog, verdict: c.Verdict, run: TestRun | None
) -> str:
    """The hand-written `template` with every generated section filled in (Markdown)."""
    found = Counter(m.group("name") for m in _BLOCK.finditer(template))
    problems = [f"{n!r} appears {found[n]} times" for n in SECTIONS if found[n] != 1]
    problems += [f"unknown section {n!r}" for n in found if n not in SECTIONS]
    if problems:
        raise TemplateError("generated-section markers: " + "; ".join(problems))

    def fill(match: re.Match) -> str:
        name = match.group("name")
        body = SECTIONS[name](log, verdict, run)
        return f"<!-- safety_case: {name} (generated) -->\n{body}\n<!-- /safety_case -->"

    return _BLOCK.sub(fill, template)


def summary_render(*, log: HazardLog, verdict: c.Verdict, run: TestRun | None) -> str:
    """A few plain-text lines for the terminal: counts, the verdict and every finding."""
    controls = [ctl for h in log.hazards for ctl in h.controls]
    kinds = Counter(ctl.kind for ctl in controls)
    pending = sum(len(h.pending) for h in log.hazards)
    residual = Counter(h.residual.rating for h in log.hazards)
    lines = [
        f"Hazard log: {len(log.hazards)} hazards, {len(controls)} controls ("
        + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        + f"), {pending} pending items (planned, not yet controls)",
        "Residual risk: "
        + ", ".join(f"{residual[r]} at {r}" for r in sorted(residual, reverse=True))
        + "; status: "
        + ", ".join(f"{n} {s}" for s, n in sorted(Counter(h.status for h in log.hazards).items())),
    ]
    if run is not None:
        outcomes = Counter(t.outcome for t in run.tests)
        said = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items()))
        lines.append(
            f"Tests with hazard markers in the run of {run.finished_at}: {len(run.tests)}"
            + (f" ({said})" if said else "")
        )
    if verdict.judged:
        states = Counter(s.state for s in verdict.controls.values())
        lines.append("Controls: " + ", ".join(f"{n} {s}" for s, n in sorted(states.items())))
    if verdict.findings:
        lines.append(f"SAFETY CASE FAILS: {len(verdict.findings)} problem(s)")
        lines += [f"  - {f}" for f in verdict.findings]
    if not verdict.judged:
        lines.append(f"NOT JUDGED: {verdict.not_judged_because}")
    elif not verdict.findings:
        lines.append(
            "SAFETY CASE HOLDS: every software control has tests and every control's test passed"
        )
    return "\n".join(lines)
