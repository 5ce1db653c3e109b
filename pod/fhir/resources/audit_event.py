"""AuditEvent: POD's audit, for administrators only (as in the admin site).

Two sources, told apart by the id: `change-<n>` is a row of pod.AuditEvent (an INSERT, UPDATE
or DELETE on an audited table, written by the database trigger), `access-<n>` a row of
pod.RecordAccess (someone looked at a person's record). Only the table, the row, the names of
the changed fields and who did it travel: never the row's values before or after, so an
AuditEvent carries no personal data beyond the person's id, and reading one is not itself
logged as a look at a record (like the admin's own audit pages).
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet

from pod.fhir import terminology as t
from pod.fhir.registry import (
    ADMINISTRATOR,
    Mapper,
    SearchError,
    Source,
    instant,
    reference,
    register,
)
from pod.foundation.audit_models import AuditEvent, RecordAccess
from pod.foundation.models import User

ACTION = {"INSERT": "C", "UPDATE": "U", "DELETE": "D"}
PATIENT_RECORD = t.coding(t.DICOM, "110110", "Patient Record")
SOURCE = {
    "site": "POD",
    "observer": {"display": "POD"},
    "type": [t.coding(t.AUDIT_SOURCE_TYPE, "4", "Application Server")],
}
PREFIXES = ("change-", "access-")


def _agent(user: User | None, user_id: int | None) -> dict[str, Any]:
    who: dict[str, Any]
    if user is not None:
        who = t.staff_reference(user)
    elif user_id is not None:
        who = {"display": f"account {user_id}"}
    else:
        who = {"display": "no application user (database or task)"}
    return {"who": who, "requestor": True}


@register
class AuditEventMapper(Mapper):
    type_name = "AuditEvent"
    description = (
        "The audit: every change to an audited table (id change-<n>: table, row, operation, "
        "changed field names, who) and every look at a person's record (id access-<n>: whose "
        "record, what, who). Administrators only; no values of the rows are included."
    )
    model = AuditEvent
    roles = frozenset({ADMINISTRATOR})
    date_path = "at"
    created_path = "at"

    def visible(self, user: User) -> QuerySet[AuditEvent]:
        if user.role != ADMINISTRATOR:
            return AuditEvent.objects.none()
        return AuditEvent.objects.all()

    def sources(self, user: User) -> list[Source]:
        accesses = (
            RecordAccess.objects.all()
            if user.role == ADMINISTRATOR
            else RecordAccess.objects.none()
        )
        return [
            Source(
                "change-",
                self.visible(user).annotate(fhir_last_updated=F("at")).select_related("user"),
                self.change_to_fhir,
            ),
            Source(
                "access-",
                accesses.annotate(fhir_last_updated=F("at")).select_related("user"),
                self.access_to_fhir,
            ),
        ]

    def locate(self, raw: str) -> tuple[int, int]:
        for index, prefix in enumerate(PREFIXES):
            if raw.startswith(prefix):
                return index, self.parse_id(raw.removeprefix(prefix))
        raise SearchError(f"No AuditEvent has the id {raw[:40]!r}")

    def to_fhir(self, row: Any) -> dict[str, Any]:
        return self.change_to_fhir(row)

    def change_to_fhir(self, row: AuditEvent) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceType": "AuditEvent",
            "id": f"change-{row.pk}",
            "meta": {"lastUpdated": instant(row.at)},
            "type": PATIENT_RECORD,
            "action": ACTION.get(row.operation, "E"),
            "recorded": instant(row.at),
            "outcome": "0",
            "agent": [_agent(row.user, row.user_id)],
            "source": SOURCE,
        }
        if row.table_name == "networks_serviceuser":
            what: dict[str, Any] = reference("Patient", row.row_id)
        else:
            what = {
                "identifier": {
                    "system": t.pod_system("table-row"),
                    "value": f"{row.table_name}/{row.row_id}",
                }
            }
        entity: dict[str, Any] = {"what": what}
        if row.changed_fields:
            entity["detail"] = [
                {"type": "changed fields", "valueString": ", ".join(map(str, row.changed_fields))}
            ]
        out["entity"] = [entity]
        return out

    def access_to_fhir(self, row: RecordAccess) -> dict[str, Any]:
        return {
            "resourceType": "AuditEvent",
            "id": f"access-{row.pk}",
            "meta": {"lastUpdated": instant(row.at)},
            "type": PATIENT_RECORD,
            "action": "R",
            "recorded": instant(row.at),
            "outcome": "0",
            "agent": [_agent(row.user, row.user_id)],
            "source": SOURCE,
            "entity": [
                {
                    "what": reference("Patient", row.service_user_id),
                    "detail": [{"type": "what", "valueString": row.what or row.view_name}],
                }
            ],
        }
