"""What the benchmark measures for each size, and how the figures are summarised."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class SizeResult:
    closed: int
    sweep_ms: list[float] = field(default_factory=list)
    alerts_per_sweep: int = 0
    queries_per_sweep: int = 0
    enqueues_per_sweep: int = 0
    orm_selection_ms: list[float] = field(default_factory=list)
    raw_selection_ms: list[float] = field(default_factory=list)
    orm_sql_raw_ms: list[float] = field(default_factory=list)
    raw_work_ms: list[float] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    orm_plan: list[str] = field(default_factory=list)
    table_sizes: dict[str, str] = field(default_factory=dict)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
