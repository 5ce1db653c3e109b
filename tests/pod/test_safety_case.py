"""The safety-case tool (pod/safety_case/): the DCB0129 matrix, the hazard log, the judgement of a
test run against it, the rendered document and the command. The plugin that writes the results
file, and the whole loop from a test suite to a failing safety case, are in
test_safety_case_plugin.py."""

from __future__ import annotations

import itertools
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from pod.safety_case.check import rating_findings, safety_case_check
from pod.safety_case.hazard_log import HazardLogError, hazard_log_load, hazard_log_parse
from pod.safety_case.matrix import LIKELIHOODS, SEVERITIES, risk_rating
from pod.safety_case.render import TemplateError, document_render, summary_render
from pod.safety_case.results import TestResult, TestRun

ROOT = Path(__file__).resolve().parents[2]

# The matrix as DCB0129's implementation guidance prints it, rating by rating, written out
# independently of pod/safety_case/matrix.py: (likelihood, severity) cells of each rating.
GUIDANCE = {
    1: [("very low", "minor"), ("very low", "significant"), ("low", "minor")],
    2: [
        ("very low", "considerable"),
        ("very low", "major"),
        ("low", "significant"),
        ("low", "considerable"),
        ("medium", "minor"),
        ("medium", "significant"),
        ("high", "minor"),
    ],
    3: [
        ("very low", "catastrophic"),
        ("low", "major"),
        ("medium", "considerable"),
        ("medium", "major"),
        ("high", "significant"),
        ("high", "considerable"),
        ("very high", "minor"),
    ],
    4: [
        ("low", "catastrophic"),
        ("medium", "catastrophic"),
        ("high", "major"),
        ("very high", "significant"),
        ("very high", "considerable"),
    ],
    5: [("high", "catastrophic"), ("very high", "major"), ("very high", "catastrophic")],
}


def test_it_rates_every_cell_as_the_dcb0129_matrix_does():
    cells = [cell for group in GUIDANCE.values() for cell in group]
    assert sorted(cells) == sorted(itertools.product(LIKELIHOODS, SEVERITIES))  # each cell once
    for rating, group in GUIDANCE.items():
        for likelihood, severity in group:
            assert risk_rating(severity=severity, likelihood=likelihood) == rating, (
                likelihood,
                severity,
            )


def test_it_never_rates_a_worse_severity_or_likelihood_lower():
    for likelihood, severity in itertools.product(LIKELIHOODS, SEVERITIES):
        rating = risk_rating(severity=severity, likelihood=likelihood)
        worse_s = SEVERITIES[min(SEVERITIES.index(severity) + 1, 4)]
        worse_l = LIKELIHOODS[min(LIKELIHOODS.index(likelihood) + 1, 4)]
        assert risk_rating(severity=worse_s, likelihood=likelihood) >= rating
        assert risk_rating(severity=severity, likelihood=worse_l) >= rating


def test_it_names_an_unknown_category():
    with pytest.raises(ValueError, match="unknown severity 'severe'"):
        risk_rating(severity="severe", likelihood="low")
    with pytest.raises(ValueError, match="unknown likelihood 'rare'"):
        risk_rating(severity="major", likelihood="rare")


# --- The hazard log -------------------------------------------------------------------------


def test_the_real_hazard_log_covers_issue_16_and_agrees_with_the_matrix():
    log = hazard_log_load(ROOT / "safety" / "hazards.toml")
    assert [h.id for h in log.hazards] == [f"HAZ-{n:02}" for n in range(1, 12)]
    assert rating_findings(log) == []
    for hazard in log.hazards:
        assert any(c.kind == "software" for c in hazard.controls), hazard.id


def _risk(severity, likelihood, rating):
    return {"severity": severity, "likelihood": likelihood, "rating": rating}


def _hazard(n, controls, **kw):
    return {
        "id": f"HAZ-0{n}",
        "title": f"Hazard {n}",
        "causes": ["a cause"],
        "effect": "an effect",
        "initial": _risk("major", "high", 4),
        "residual": _risk("major", "low", 3),
        "status": "open",
        "pending": ["Issue 99: a planned control"],
        "control": [
            {"id": f"HAZ-0{n}.C{i}", "kind": kind, "description": f"control {i}"}
            for i, kind in enumerate(controls, start=1)
        ],
        **kw,
    }


def small_log(**changes):
    """Two hazards: HAZ-01 with two software controls and a process one, HAZ-02 with one."""
    first = _hazard(1, ["software", "software", "process"], **changes)
    return hazard_log_parse({"hazard": [first, _hazard(2, ["software"])]})


def test_it_names_every_problem_in_the_shape_of_the_log():
    bad = _hazard(1, ["software", "magic"], status="done", colour="red")
    bad["initial"] = _risk("severe", "high", 4)
    bad["control"].append({"id": "HAZ-02.C9", "kind": "software", "description": "x"})
    twice = _hazard(2, ["software"])
    twice["control"].append(dict(twice["control"][0]))
    with pytest.raises(HazardLogError) as exc:
        hazard_log_parse({"hazard": [bad, twice, {"id": "HAZ-3"}]})
    problems = "\n".join(exc.value.problems)
    for expected in [
        "HAZ-01: unknown key 'colour'",
        "HAZ-01: status 'done' is not one of",
        "HAZ-01 initial: severity 'severe'",
        "HAZ-01.C2: kind 'magic'",
        "id 'HAZ-02.C9' must look like HAZ-01.C1",
        "HAZ-02.C1: the id is used twice",
        "hazard #3: missing 'title'",
    ]:
        assert expected in problems


# --- The judgement --------------------------------------------------------------------------


def run(*tests, complete=True, reasons=(), errors=()):
    return TestRun(
        finished_at="2026-03-02T09:00:00+00:00",
        args=(),
        exit_status=0,
        complete=complete,
        partial_reasons=tuple(reasons),
        collection_errors=tuple(errors),
        tests=tuple(TestResult(nodeid, tuple(ids), outcome) for nodeid, ids, outcome in tests),
    )


EVERY_SOFTWARE_CONTROL_PASSED = [
    ("t.py::test_a", ["HAZ-01.C1"], "passed"),
    ("t.py::test_b[1]", ["HAZ-01.C2", "HAZ-02.C1"], "passed"),
    ("t.py::test_b[2]", ["HAZ-01.C2", "HAZ-02.C1"], "passed"),
]


def test_it_holds_when_every_control_has_tests_and_they_all_passed():
    verdict = safety_case_check(log=small_log(), run=run(*EVERY_SOFTWARE_CONTROL_PASSED))
    assert verdict.findings == ()
    assert verdict.exit_status == 0
    states = {cid: s.state for cid, s in verdict.controls.items()}
    assert states == {
        "HAZ-01.C1": "passed",
        "HAZ-01.C2": "passed",
        "HAZ-01.C3": "no test needed",  # a process control
        "HAZ-02.C1": "passed",
    }


def test_it_fails_when_a_software_control_has_no_test():
    tests = [t for t in EVERY_SOFTWARE_CONTROL_PASSED if t[0] != "t.py::test_a"]
    verdict = safety_case_check(log=small_log(), run=run(*tests))
    assert [str(f) for f in verdict.findings] == [
        'HAZ-01.C1: software control with no test marked @pytest.mark.hazard("HAZ-01.C1")'
    ]
    assert verdict.exit_status == 1


@pytest.mark.parametrize(
    ("outcome", "said"),
    [
        ("failed", "failed"),
        ("error", "had an error"),
        ("skipped", "was skipped"),
        ("not run", "did not run"),
    ],
)
def test_it_fails_when_a_controls_test_did_not_pass(outcome, said):
    tests = [*EVERY_SOFTWARE_CONTROL_PASSED[:2], ("t.py::test_b[2]", ["HAZ-02.C1"], outcome)]
    verdict = safety_case_check(log=small_log(), run=run(*tests))
    assert [str(f) for f in verdict.findings] == [f"HAZ-02.C1: test t.py::test_b[2] {said}"]
    assert verdict.controls["HAZ-02.C1"].state == "failing"
    assert verdict.controls["HAZ-01.C2"].state == "passed"  # test_b[1] passed; [2] is not its


def test_it_judges_a_test_that_proves_a_process_control_too():
    tests = [*EVERY_SOFTWARE_CONTROL_PASSED, ("t.py::test_c", ["HAZ-01.C3"], "failed")]
    verdict = safety_case_check(log=small_log(), run=run(*tests))
    assert [f.subject for f in verdict.findings] == ["HAZ-01.C3"]


def test_it_fails_on_a_marker_that_names_an_unknown_control_or_none():
    tests = [
        *EVERY_SOFTWARE_CONTROL_PASSED,
        ("t.py::test_typo", ["HAZ-01.C9"], "passed"),
        ("t.py::test_bare", [""], "passed"),
    ]
    verdict = safety_case_check(log=small_log(), run=run(*tests))
    assert [str(f) for f in verdict.findings] == [
        "t.py::test_typo: its hazard marker names unknown control id 'HAZ-01.C9'",
        "t.py::test_bare: its hazard marker names no control id",
    ]


def test_it_fails_when_a_file_of_tests_could_not_be_collected():
    verdict = safety_case_check(
        log=small_log(), run=run(*EVERY_SOFTWARE_CONTROL_PASSED, errors=["tests/test_x.py"])
    )
    assert [f.subject for f in verdict.findings] == ["tests/test_x.py"]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"initial": _risk("major", "high", 3)},
            "initial rating is 3, but the DCB0129 matrix gives 4 for major × high",
        ),
        (
            {"residual": _risk("considerable", "very low", 1)},
            "residual rating is 1, but the DCB0129 matrix gives 2 for considerable × very low",
        ),
        (
            {"initial": _risk("minor", "low", 1), "residual": _risk("minor", "high", 2)},
            "residual risk is higher than the initial risk",
        ),
        (
            {"residual": _risk("major", "high", 4), "status": "mitigated"},
            "residual rating 4 is unacceptable, so the hazard cannot be mitigated",
        ),
        ({"status": "closed"}, "closed, but it still lists pending controls"),
    ],
)
def test_it_fails_on_ratings_or_statuses_that_contradict_the_matrix(changes, problem):
    verdict = safety_case_check(log=small_log(**changes), run=run(*EVERY_SOFTWARE_CONTROL_PASSED))
    assert [str(f) for f in verdict.findings] == [f"HAZ-01: {problem}"]


def test_it_does_not_judge_the_tests_of_a_partial_run():
    partial = run(complete=False, reasons=["12 tests deselected (-k, -m, --deselect or similar)"])
    verdict = safety_case_check(log=small_log(), run=partial)  # no test at all: not judged
    assert verdict.findings == () and verdict.exit_status == 2
    assert "12 tests deselected" in verdict.not_judged_because
    assert {s.state for s in verdict.controls.values()} == {"not judged"}
    # A rating does not depend on the run: it fails whatever ran.
    wrong = safety_case_check(log=small_log(initial=_risk("major", "high", 5)), run=partial)
    assert wrong.exit_status == 1


def test_it_does_not_judge_without_a_results_file():
    verdict = safety_case_check(log=small_log(), run=None, why_no_run="results.json is missing")
    assert verdict.exit_status == 2 and verdict.not_judged_because == "results.json is missing"


# --- The document ---------------------------------------------------------------------------

TEMPLATE = "# Safety case\n\n" + "\n\n".join(
    f"<!-- safety_case: {name} -->\nplaceholder\n<!-- /safety_case -->"
    for name in ["verdict", "risk-matrix", "hazard-table", "hazards", "residual-summary"]
)


def test_it_renders_every_control_with_its_tests_and_every_pending_item():
    failing = [*EVERY_SOFTWARE_CONTROL_PASSED[:2], ("t.py::test_b[2]", ["HAZ-02.C1"], "failed")]
    log, the_run = small_log(), run(*failing)
    verdict = safety_case_check(log=log, run=the_run)
    text = document_render(template=TEMPLATE, log=log, verdict=verdict, run=the_run)
    assert "placeholder" not in text
    assert "**The safety case FAILS** — 1 problem(s):" in text
    assert "| **very high** | 3 | 4 | 4 | 5 | 5 |" in text  # the matrix, worst likelihood first
    assert "| [HAZ-01](#haz-01) | Hazard 1 | major × high = **4** |" in text
    assert "| HAZ-01.C1 | software | control 1 | `t.py::test_a` — passed | passed |" in text
    assert "`t.py::test_b` — 1 failed, 1 passed | FAILING |" in text  # cases grouped
    assert "| HAZ-01.C3 | process | control 3 | — | no test needed |" in text
    assert "Planned, not yet a control" in text and "- Issue 99: a planned control" in text
    summary = summary_render(log=log, verdict=verdict, run=the_run)
    assert "SAFETY CASE FAILS: 1 problem(s)" in summary
    assert "HAZ-02.C1: test t.py::test_b[2] failed" in summary


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        (TEMPLATE.replace("safety_case: hazards -->", "safety_case: hazardz -->"), "hazardz"),
        (TEMPLATE + "\n<!-- safety_case: verdict -->\nx\n<!-- /safety_case -->", "2 times"),
    ],
)
def test_it_refuses_a_document_whose_generated_sections_are_wrong(template, problem):
    log = small_log()
    verdict = safety_case_check(log=log, run=None)
    with pytest.raises(TemplateError, match=problem):
        document_render(template=template, log=log, verdict=verdict, run=None)


def test_the_real_safety_case_has_every_generated_section():
    log = hazard_log_load(ROOT / "safety" / "hazards.toml")
    verdict = safety_case_check(log=log, run=None)
    template = (ROOT / "safety" / "SAFETY_CASE.md").read_text()
    text = document_render(template=template, log=log, verdict=verdict, run=None)
    assert "### HAZ-11" in text and "## What a deploying organisation must do" in text


# --- The command ----------------------------------------------------------------------------


def test_the_command_writes_the_document_and_fails_with_the_reasons(tmp_path):
    import json

    (tmp_path / "hazards.toml").write_text(
        (ROOT / "tests" / "pod" / "safety_case_fixture.toml").read_text()
    )
    (tmp_path / "case.md").write_text(TEMPLATE)
    results = {
        "schema": 1,
        "finished_at": "2026-03-02T09:00:00+00:00",
        "complete": True,
        "tests": [{"nodeid": "t.py::test_a", "controls": ["HAZ-01.C1"], "outcome": "passed"}],
    }
    (tmp_path / "results.json").write_text(json.dumps(results))
    paths = {
        "hazard_log": tmp_path / "hazards.toml",
        "results": tmp_path / "results.json",
        "template": tmp_path / "case.md",
        "out": tmp_path / "out",
    }
    out = StringIO()
    call_command("safety_case", **paths, stdout=out)
    assert "SAFETY CASE HOLDS" in out.getvalue()
    assert "The safety case holds" in (tmp_path / "out" / "SAFETY_CASE.md").read_text()

    results["tests"][0]["outcome"] = "failed"
    (tmp_path / "results.json").write_text(json.dumps(results))
    out = StringIO()
    with pytest.raises(CommandError, match="the safety case fails") as exc:
        call_command("safety_case", **paths, stdout=out)
    assert exc.value.returncode == 1
    assert "HAZ-01.C1: test t.py::test_a failed" in out.getvalue()
