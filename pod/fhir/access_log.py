"""RecordAccess rows for what the API returned: one per person per request, in one INSERT."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pod.fhir.auth import Caller
from pod.fhir.registry import Mapper
from pod.foundation.audit_models import RecordAccess


def person_ids(found: Iterable[tuple[Mapper, Any]]) -> set[int]:
    """The people whose data these (mapper, row) pairs show (rows from `base_rows`, which
    annotates `fhir_person_id`); types about no one person (Organization, AuditEvent) add none."""
    ids: set[int] = set()
    for mapper, row in found:
        if mapper.person_path is not None:
            person = getattr(row, "fhir_person_id", None)
            if person is not None:
                ids.add(int(person))
    return ids


def log_reads(caller: Caller, people: set[int], what: str, view_name: str) -> int:
    """Write one RecordAccess row for each of `people`, attributed to the caller's account
    (a machine client's reads are logged under its account). Returns the number written."""
    RecordAccess.objects.bulk_create(
        [
            RecordAccess(
                user=caller.user, service_user_id=person, what=what[:60], view_name=view_name
            )
            for person in sorted(people)
        ]
    )
    return len(people)
