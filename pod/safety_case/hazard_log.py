"""The hazard log (`safety/hazards.toml`) read into plain, immutable objects.

The log is TOML, read with the standard library's `tomllib`. One `[[hazard]]` table per hazard;
its controls follow as `[[hazard.control]]` tables (TOML puts every key written after a table
header into that table, so a hazard's own keys come before its first control):

    [[hazard]]
    id = "HAZ-01"                        # HAZ- and two or more digits, unique
    title = "..."
    causes = ["...", "..."]              # at least one
    effect = "..."                       # the effect on the person
    initial = { severity = "major", likelihood = "high", rating = 4 }
    residual = { severity = "major", likelihood = "low", rating = 3 }
    status = "open"                      # open | mitigated | closed
    pending = ["Issue 10: ..."]          # planned controls, free text; never count as controls

    [[hazard.control]]
    id = "HAZ-01.C1"                     # the hazard's id, ".C" and a number, unique
    kind = "software"                    # software | process | deployment
    description = "..."
    evidence = "..."                     # optional: where a non-software control is shown

Loading checks the shape (keys, types, ids, category names) and raises HazardLogError listing
every problem. Whether the stated ratings agree with the matrix is not a question of shape: the
check (`pod.safety_case.check`) reports it, so the rendered document can still show the log.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from pod.safety_case.matrix import LIKELIHOODS, SEVERITIES, risk_rating

HAZARD_ID = re.compile(r"HAZ-\d{2,}")
CONTROL_ID = re.compile(r"(HAZ-\d{2,})\.C(\d+)")
CONTROL_KINDS = ("software", "process", "deployment")
STATUSES = ("open", "mitigated", "closed")

_HAZARD_KEYS: dict[str, type] = {
    "id": str,
    "title": str,
    "causes": list,
    "effect": str,
    "initial": dict,
    "residual": dict,
    "status": str,
    "pending": list,
    "control": list,
}
_HAZARD_OPTIONAL = {"pending"}
_CONTROL_KEYS: dict[str, type] = {"id": str, "kind": str, "description": str, "evidence": str}
_CONTROL_OPTIONAL = {"evidence"}
_RISK_KEYS: dict[str, type] = {"severity": str, "likelihood": str, "rating": int}


class HazardLogError(Exception):
    """The hazard log cannot be read. `problems` lists each one, naming where it is."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass(frozen=True)
class Risk:
    """A severity × likelihood assessment and the rating the log states for it."""

    severity: str
    likelihood: str
    rating: int

    @property
    def computed_rating(self) -> int:
        """The rating the DCB0129 matrix gives for this severity × likelihood."""
        return risk_rating(severity=self.severity, likelihood=self.likelihood)


@dataclass(frozen=True)
class Control:
    id: str
    hazard_id: str
    kind: str
    description: str
    evidence: str = ""

    @property
    def needs_tests(self) -> bool:
        """A software control is proven by the tests that carry its marker; others may be."""
        return self.kind == "software"


@dataclass(frozen=True)
class Hazard:
    id: str
    title: str
    causes: tuple[str, ...]
    effect: str
    initial: Risk
    residual: Risk
    status: str
    controls: tuple[Control, ...]
    pending: tuple[str, ...]


@dataclass(frozen=True)
class HazardLog:
    hazards: tuple[Hazard, ...]

    def controls(self) -> dict[str, Control]:
        """Every control by id, in log order."""
        return {c.id: c for h in self.hazards for c in h.controls}


def hazard_log_load(path: Path | str) -> HazardLog:
    """Read and shape-check the hazard log at `path`. Raises HazardLogError (every problem) or
    OSError when the file cannot be opened."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise HazardLogError(path, [f"not valid TOML: {exc}"]) from exc
    return hazard_log_parse(data, source=path)


def hazard_log_parse(data: dict, *, source: Path | str = "<hazard log>") -> HazardLog:
    """Shape-check parsed TOML (a dict with a `hazard` list) and build the HazardLog."""
    problems: list[str] = []
    unknown = set(data) - {"hazard"}
    if unknown:
        problems.append(f"unknown top-level keys {sorted(unknown)}")
    raw_hazards = data.get("hazard")
    if not isinstance(raw_hazards, list) or not raw_hazards:
        raise HazardLogError(source, [*problems, "no [[hazard]] tables"])
    hazards: list[Hazard] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_hazards, start=1):
        hazard = _hazard(raw, f"hazard #{index}", problems)
        if hazard is None:
            continue
        for ident in (hazard.id, *(c.id for c in hazard.controls)):
            if ident in seen:
                problems.append(f"{ident}: the id is used twice")
            seen.add(ident)
        hazards.append(hazard)
    if problems:
        raise HazardLogError(source, problems)
    return HazardLog(hazards=tuple(hazards))


def _keys(
    raw: object, spec: dict[str, type], optional: set[str], where: str, problems: list[str]
) -> TypeGuard[dict[str, Any]]:
    """Report unknown, missing and mistyped keys; False when the table cannot be used (a key
    it needs is missing or of the wrong type), True when `raw` is a table whose keys `spec`
    describes. An unknown key is reported but does not stop the rest of the table being
    checked."""
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected a table")
        return False
    for key in sorted(set(raw) - set(spec)):
        problems.append(f"{where}: unknown key {key!r}")
    usable = True
    for key, kind in spec.items():
        if key not in raw:
            if key not in optional:
                problems.append(f"{where}: missing {key!r}")
                usable = False
        elif not isinstance(raw[key], kind) or isinstance(raw[key], bool):
            problems.append(f"{where}: {key!r} must be a {kind.__name__}")
            usable = False
    return usable


def _texts(values: list, where: str, problems: list[str]) -> tuple[str, ...]:
    if not all(isinstance(v, str) and v.strip() for v in values):
        problems.append(f"{where}: every entry must be non-empty text")
    return tuple(str(v) for v in values)


def _risk(raw: object, where: str, problems: list[str]) -> Risk | None:
    if not _keys(raw, _RISK_KEYS, set(), where, problems):
        return None
    risk = Risk(severity=raw["severity"], likelihood=raw["likelihood"], rating=raw["rating"])
    ok = True
    if risk.severity not in SEVERITIES:
        problems.append(f"{where}: severity {risk.severity!r} is not one of {list(SEVERITIES)}")
        ok = False
    if risk.likelihood not in LIKELIHOODS:
        problems.append(
            f"{where}: likelihood {risk.likelihood!r} is not one of {list(LIKELIHOODS)}"
        )
        ok = False
    if not 1 <= risk.rating <= 5:
        problems.append(f"{where}: rating must be 1 to 5")
        ok = False
    return risk if ok else None


def _hazard(raw: object, where: str, problems: list[str]) -> Hazard | None:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str) and HAZARD_ID.fullmatch(raw["id"]):
        where = raw["id"]
    before = len(problems)
    if not _keys(raw, _HAZARD_KEYS, _HAZARD_OPTIONAL, where, problems):
        return None
    hazard_id = raw["id"]
    if not HAZARD_ID.fullmatch(hazard_id):
        problems.append(f"{where}: id {hazard_id!r} must look like HAZ-01")
        return None
    if not raw["title"].strip() or not raw["effect"].strip():
        problems.append(f"{where}: title and effect must not be empty")
    causes = _texts(raw["causes"], f"{where} causes", problems)
    if not causes:
        problems.append(f"{where}: at least one cause")
    pending = _texts(raw.get("pending", []), f"{where} pending", problems)
    if raw["status"] not in STATUSES:
        problems.append(f"{where}: status {raw['status']!r} is not one of {list(STATUSES)}")
    initial = _risk(raw["initial"], f"{where} initial", problems)
    residual = _risk(raw["residual"], f"{where} residual", problems)
    controls = tuple(
        c
        for n, c_raw in enumerate(raw["control"], start=1)
        if (c := _control(c_raw, hazard_id, f"{where} control #{n}", problems)) is not None
    )
    if not controls:
        problems.append(f"{where}: at least one [[hazard.control]]")
    if len(problems) > before or initial is None or residual is None:
        return None
    return Hazard(
        id=hazard_id,
        title=raw["title"].strip(),
        causes=causes,
        effect=raw["effect"].strip(),
        initial=initial,
        residual=residual,
        status=raw["status"],
        controls=controls,
        pending=pending,
    )


def _control(raw: object, hazard_id: str, where: str, problems: list[str]) -> Control | None:
    if not _keys(raw, _CONTROL_KEYS, _CONTROL_OPTIONAL, where, problems):
        return None
    match = CONTROL_ID.fullmatch(raw["id"])
    if match is None or match.group(1) != hazard_id:
        problems.append(f"{where}: id {raw['id']!r} must look like {hazard_id}.C1")
        return None
    if raw["kind"] not in CONTROL_KINDS:
        problems.append(f"{raw['id']}: kind {raw['kind']!r} is not one of {list(CONTROL_KINDS)}")
        return None
    if not raw["description"].strip():
        problems.append(f"{raw['id']}: empty description")
        return None
    return Control(
        id=raw["id"],
        hazard_id=hazard_id,
        kind=raw["kind"],
        description=" ".join(raw["description"].split()),
        evidence=" ".join(raw.get("evidence", "").split()),
    )
