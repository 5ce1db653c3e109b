"""Organization: a team (pod.Team), part of its trust (by ODS code)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from pod.fhir import terminology as t
from pod.fhir.registry import ADMINISTRATOR, CLINICAL, MANAGER, Mapper, register
from pod.foundation.access import teams_for
from pod.foundation.models import Team, User


@register
class OrganizationMapper(Mapper):
    type_name = "Organization"
    description = (
        "A team (Early Intervention in Psychosis, Crisis Resolution, community), part of its "
        "trust, which is named by its ODS code. A caller sees the teams it belongs to."
    )
    model = Team
    roles = CLINICAL | {MANAGER, ADMINISTRATOR}
    team_path = "pk"

    def visible(self, user: User) -> QuerySet[Team]:
        return teams_for(user)

    def prepare(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        return rows.select_related("trust")

    def to_fhir(self, row: Team) -> dict[str, Any]:
        out = self.start(row)
        out["active"] = True
        out["type"] = [
            {
                "coding": [t.coding(t.pod_system("team-kind"), row.kind, row.get_kind_display())],
                "text": row.get_kind_display(),
            }
        ]
        out["name"] = row.name
        out["partOf"] = {
            "identifier": {"system": t.ODS_CODE, "value": row.trust.code},
            "display": row.trust.name,
        }
        return out
