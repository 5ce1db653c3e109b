"""CareTeam: an episode's core team (the two or three named staff who stay for the whole
episode) and the person's network as participants. One CareTeam per episode, same id."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from meetings.models import Episode
from meetings.selectors import episodes_for
from networks.models import NetworkMember
from pod.fhir import terminology as t
from pod.fhir.registry import CLINICAL, Include, Mapper, instant, reference, register
from pod.fhir.resources.related_person import role_code_for
from pod.foundation.models import User

CORE_TEAM_ROLE = {
    "coding": [t.coding(t.pod_system("care-team-role"), "core-team", "Core team")],
    "text": "Core team",
}


@register
class CareTeamMapper(Mapper):
    type_name = "CareTeam"
    description = (
        "An episode's care team: its core team (staff, by name and POD username) and the "
        "person's network (RelatedPerson, with the relationship as the role), for the "
        "episode's period; managed by the team (Organization)."
    )
    model = Episode
    roles = CLINICAL
    person_path = "service_user_id"
    team_path = "team_id"
    audit_table = "meetings_episode"
    created_path = "created_at"
    statuses = {
        "active": ~Q(status=Episode.Status.CLOSED),
        "inactive": Q(status=Episode.Status.CLOSED),
    }
    includes = (
        Include("patient", "Patient", "service_user_id"),
        Include("organization", "Organization", "team_id"),
    )

    def visible(self, user: User) -> QuerySet[Episode]:
        return episodes_for(user)

    def prepare(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        members = NetworkMember.objects.exclude(status=NetworkMember.Status.PROPOSED).order_by("pk")
        return rows.prefetch_related(
            "core_team",
            Prefetch("service_user__network_members", queryset=members, to_attr="fhir_members"),
        ).select_related("service_user")

    def to_fhir(self, row: Episode) -> dict[str, Any]:
        out = self.start(row)
        out["status"] = "inactive" if row.status == Episode.Status.CLOSED else "active"
        out["name"] = f"Core team and network, episode {row.pk}"
        out["subject"] = reference("Patient", row.service_user_id)
        period = {"start": instant(row.referral_received_at)}
        if row.closed_at is not None:
            period["end"] = instant(row.closed_at)
        out["period"] = period
        participants: list[dict[str, Any]] = [
            {"role": [CORE_TEAM_ROLE], "member": t.staff_reference(user)}
            for user in sorted(row.core_team.all(), key=lambda u: u.pk)
        ]
        members: list[NetworkMember] = getattr(row.service_user, "fhir_members", [])
        for member in members:
            role_codings = []
            code = role_code_for(member.category, member.relationship)
            if code is not None:
                role_codings.append(t.coding(t.V3_ROLE_CODE, *code))
            role: dict[str, Any] = {"text": member.relationship}
            if role_codings:
                role["coding"] = role_codings
            participant: dict[str, Any] = {
                "role": [role],
                "member": reference("RelatedPerson", member.pk),
            }
            member_period = {"start": instant(member.joined_at or member.added_at)}
            if member.ended_at:
                member_period["end"] = instant(member.ended_at)
            participant["period"] = member_period
            participants.append(participant)
        out["participant"] = participants
        out["managingOrganization"] = [reference("Organization", row.team_id)]
        return out
