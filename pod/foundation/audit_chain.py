"""Checking the audit's hash chain, and who the audit says acted (`manage.py audit_verify`).

1. For each audit table, walk the chained rows in `seq` order, a page at a time (keyset, so the
   memory used does not grow with the table).
2. For each row, recompute its hash in the database with the same function the trigger used
   (pod_auditevent_hash / pod_recordaccess_hash), and check that
   - `row_hash` is that hash (the row was not changed),
   - `seq` follows the previous row's (no row was removed between them; the first is 1),
   - `prev_hash` is the previous row's `row_hash` (the link holds).
   The first row that fails is reported with what failed; a chain is only as good as its first
   break, so the walk stops there. A row written after the chain began but with no place in it
   (inserted with the triggers switched off) is a break too.
3. Anchors: a removed *last* row leaves no gap behind it, so `audit_verify` prints the head
   (seq and hash) every run; kept outside the database (the scheduled task logs it), an earlier
   head given back with `--anchor SEQ:HASH` must still be in the chain.
4. Attribution: audit events whose context names a user or task without a valid signature
   (pod/foundation/audit_context.py) are counted and the first few listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from pod.foundation.audit_context import context_is_verified
from pod.foundation.audit_models import AuditEvent

PAGE = 5000
# table -> its hash function (pod/foundation/audit_sql.py)
CHAINS = {"pod_auditevent": "pod_auditevent_hash", "pod_recordaccess": "pod_recordaccess_hash"}


@dataclass(frozen=True)
class Break:
    """The first place a chain does not hold."""

    table: str
    seq: int
    row_id: int | None  # None when the row that should be there is missing
    problem: str

    def __str__(self) -> str:
        where = f"row id {self.row_id}" if self.row_id is not None else "no row"
        return f"{self.table}: seq {self.seq} ({where}): {self.problem}"


@dataclass
class ChainReport:
    table: str
    checked: int = 0
    head_seq: int = 0
    head_hash: str = ""
    first_break: Break | None = None
    anchors_missing: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.first_break is None and not self.anchors_missing


def verify_chain(table: str, anchors: dict[int, str] | None = None) -> ChainReport:
    """Walk one chain (a key of CHAINS); the report names its first break, if any.

    `anchors` is {seq: row_hash} recorded from earlier runs; each must still be found.
    """
    hash_function = CHAINS[table]
    report = ChainReport(table)
    expected_seq, previous_hash = 1, ""
    last_seq = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT id, seq, prev_hash, row_hash, {hash_function}(t) FROM {table} t "
                "WHERE seq > %s ORDER BY seq LIMIT %s",
                [last_seq, PAGE],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            for row_id, seq, prev_hash, row_hash, computed in rows:
                problem = None
                if seq != expected_seq:
                    report.first_break = Break(
                        table,
                        expected_seq,
                        None,
                        f"missing: the chain jumps from seq {expected_seq - 1} to {seq} "
                        f"(row id {row_id}); {seq - expected_seq} row(s) removed",
                    )
                    return report
                if prev_hash != previous_hash:
                    problem = "its link to the previous row does not match (a row was replaced)"
                elif row_hash != computed:
                    problem = "its content does not match its hash (the row was changed)"
                if problem:
                    report.first_break = Break(table, seq, row_id, problem)
                    return report
                if anchors and seq in anchors and anchors[seq] != row_hash:
                    report.anchors_missing.append(f"{seq}:{anchors[seq]}")
                report.checked += 1
                report.head_seq, report.head_hash = seq, row_hash
                expected_seq, previous_hash = seq + 1, row_hash
            last_seq = rows[-1][1]
    for seq, anchor_hash in (anchors or {}).items():
        if seq > report.head_seq:
            report.anchors_missing.append(f"{seq}:{anchor_hash}")
    outside = _unchained_after_start(table)
    if outside is not None and report.first_break is None:
        report.first_break = Break(
            table,
            0,
            outside,
            "outside the chain: written after the chain began without passing through its "
            "trigger (triggers switched off by the owner)",
        )
    return report


def _unchained_after_start(table: str) -> int | None:
    """The first row with no place in the chain written after the chain's first row (rows from
    before the chain existed have no `seq` and are older than it). None if there is none."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(id) FROM {table} WHERE seq IS NULL "
            f"AND id > (SELECT min(id) FROM {table} WHERE seq IS NOT NULL)"
        )
        row = cursor.fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class AttributionReport:
    unverified: int
    examples: list[int]  # ids of the first few audit events with an unverified claim


def verify_attribution(limit_examples: int = 10) -> AttributionReport:
    """Audit events whose context claims a user or task without a valid signature."""
    unverified = 0
    examples: list[int] = []
    claims = (
        AuditEvent.objects.exclude(context__isnull=True)
        .order_by("id")
        .values_list("id", "context")
        .iterator(chunk_size=PAGE)
    )
    for event_id, context in claims:
        if context_is_verified(context) is False:
            unverified += 1
            if len(examples) < limit_examples:
                examples.append(event_id)
    return AttributionReport(unverified, examples)
