"""`manage.py audit_verify`: check the audit's hash chains and its attributions.

Exits with an error naming the first broken link when a row was removed or changed, or when an
anchor from an earlier run (`--anchor pod_auditevent:SEQ:HASH`) is no longer in the chain. Run
it on a schedule (the beat task `pod.tasks.audit_verify` does, daily) and keep the heads it
prints somewhere the database's owner cannot edit (README "Security").
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from pod.foundation.audit_chain import CHAINS, verify_attribution, verify_chain


def _anchors(values: list[str]) -> dict[str, dict[int, str]]:
    anchors: dict[str, dict[int, str]] = {}
    for value in values:
        try:
            table, seq, row_hash = value.split(":")
            anchors.setdefault(table, {})[int(seq)] = row_hash
        except ValueError as error:
            raise CommandError(f"--anchor takes TABLE:SEQ:HASH, not {value!r}") from error
        if table not in CHAINS:
            raise CommandError(f"--anchor: {table!r} is not an audit table ({', '.join(CHAINS)})")
    return anchors


class Command(BaseCommand):
    help = "Verify the audit's hash chains (and who it says acted). Fails on the first break."

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="TABLE:SEQ:HASH",
            help="a head printed by an earlier run, which must still be in the chain",
        )

    def handle(self, *args, anchor: list[str], **options):
        anchors = _anchors(anchor)
        failures = []
        for table in CHAINS:
            report = verify_chain(table, anchors.get(table))
            self.stdout.write(
                f"{table}: {report.checked} rows checked; head {table}:"
                f"{report.head_seq}:{report.head_hash or '-'}"
            )
            if report.first_break is not None:
                failures.append(f"first broken link: {report.first_break}")
            for missing in report.anchors_missing:
                failures.append(f"{table}: anchor {missing} is no longer in the chain")
        attribution = verify_attribution()
        if attribution.unverified:
            self.stdout.write(
                f"pod_auditevent: {attribution.unverified} change(s) claim a user or task "
                "without a valid signature (ids "
                + ", ".join(map(str, attribution.examples))
                + ("..." if attribution.unverified > len(attribution.examples) else "")
                + ")"
            )
        else:
            self.stdout.write("pod_auditevent: every claimed user or task is signed")
        if failures:
            raise CommandError("\n".join(failures))
        self.stdout.write(self.style.SUCCESS("The audit chains are intact."))
