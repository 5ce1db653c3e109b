"""RelatedPerson: a member of the person's social network (networks.NetworkMember).

The relationship is coded with HL7 v3 RoleCode only where the person's own words name one
relation plainly ("sister", "mum", "neighbour") or the category is itself a relation (friend,
neighbour); otherwise it carries no code. The exact words always travel as `text`. Members a
peer proposed and the person has not agreed to are not part of the network, and are left out.

Consent: the simplest conformant way is an extension on the RelatedPerson itself
(`network-member-consent`, pod.fhir.terminology.EXTENSIONS) rather than a Consent resource:
R4's Consent needs a policy, scope and category that POD's two yes/no consents do not have.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet

from networks.models import NetworkMember
from networks.selectors import service_users_for
from pod.fhir import terminology as t
from pod.fhir.registry import CLINICAL, Include, Mapper, instant, reference, register
from pod.foundation.models import User

# The person's words (lower case, without "my", "older", "step-" spelt apart ...) -> RoleCode.
WORDS_TO_ROLE_CODE: dict[str, tuple[str, str]] = {
    "mother": ("MTH", "mother"),
    "mum": ("MTH", "mother"),
    "mom": ("MTH", "mother"),
    "father": ("FTH", "father"),
    "dad": ("FTH", "father"),
    "sister": ("SIS", "sister"),
    "brother": ("BRO", "brother"),
    "son": ("SONC", "son"),
    "daughter": ("DAUC", "daughter"),
    "wife": ("WIFE", "wife"),
    "husband": ("HUSB", "husband"),
    "spouse": ("SPS", "spouse"),
    "grandmother": ("GRMTH", "grandmother"),
    "gran": ("GRMTH", "grandmother"),
    "grandfather": ("GRFTH", "grandfather"),
    "grandad": ("GRFTH", "grandfather"),
    "aunt": ("AUNT", "aunt"),
    "auntie": ("AUNT", "aunt"),
    "uncle": ("UNCLE", "uncle"),
    "cousin": ("COUSN", "cousin"),
    "niece": ("NIECE", "niece"),
    "nephew": ("NEPHEW", "nephew"),
    "stepmother": ("STPMTH", "stepmother"),
    "stepfather": ("STPFTH", "stepfather"),
    "friend": ("FRND", "unrelated friend"),
    "neighbour": ("NBOR", "neighbor"),
    "neighbor": ("NBOR", "neighbor"),
}
# A category that is itself a relation, used when the words name none.
CATEGORY_TO_ROLE_CODE: dict[str, tuple[str, str]] = {
    NetworkMember.Category.FRIEND: ("FRND", "unrelated friend"),
    NetworkMember.Category.NEIGHBOUR: ("NBOR", "neighbor"),
    NetworkMember.Category.FAMILY: ("FAMMEMB", "family member"),
    NetworkMember.Category.PARTNER: ("SIGOTHR", "significant other"),
}
# Words that qualify a relation without changing it ("older sister", "my mum").
_QUALIFIERS = {"my", "older", "younger", "big", "little", "elder", "twin", "best", "close", "old"}


def role_code_for(category: str, words: str) -> tuple[str, str] | None:
    """The v3 RoleCode (code, display) for a member, or None when nothing fits plainly.

    The words win when, without qualifiers, they are exactly one known relation ("older
    sister" -> SIS); "sister's partner" or "mum's friend" name no plain relation of the person,
    and fall back to the category (a family member, a friend ...) or to no code at all.
    """
    tokens = [w for w in re.split(r"[\s-]+", words.lower().strip()) if w and w not in _QUALIFIERS]
    if len(tokens) == 1 and tokens[0] in WORDS_TO_ROLE_CODE:
        return WORDS_TO_ROLE_CODE[tokens[0]]
    if len(tokens) == 2 and tokens[0] == "step" and f"step{tokens[1]}" in WORDS_TO_ROLE_CODE:
        return WORDS_TO_ROLE_CODE[f"step{tokens[1]}"]
    return CATEGORY_TO_ROLE_CODE.get(category)


@register
class RelatedPersonMapper(Mapper):
    type_name = "RelatedPerson"
    description = (
        "A member of the person's network: the relationship coded with v3 RoleCode where one "
        "plainly fits, the person's own words as text, the network category, contact details, "
        "when they joined and left, and their consents (extension network-member-consent)."
    )
    model = NetworkMember
    roles = CLINICAL
    person_path = "service_user_id"
    team_path = "service_user__team_id"
    audit_table = "networks_networkmember"
    created_path = "added_at"
    includes = (Include("patient", "Patient", "service_user_id"),)

    def visible(self, user: User) -> QuerySet[NetworkMember]:
        if user.role not in CLINICAL:
            return NetworkMember.objects.none()
        return NetworkMember.objects.filter(service_user__in=service_users_for(user)).exclude(
            status=NetworkMember.Status.PROPOSED
        )

    def to_fhir(self, row: NetworkMember) -> dict[str, Any]:
        out = self.start(row)
        out["extension"] = [_consent(row)]
        out["active"] = row.status == NetworkMember.Status.ACTIVE
        out["patient"] = reference("Patient", row.service_user_id)
        codings = []
        code = role_code_for(row.category, row.relationship)
        if code is not None:
            codings.append(t.coding(t.V3_ROLE_CODE, *code))
        codings.append(
            t.coding(t.pod_system("network-category"), row.category, row.get_category_display())
        )
        out["relationship"] = [{"coding": codings, "text": row.relationship}]
        out["name"] = [{"text": row.name}]
        telecom = []
        if row.phone:
            telecom.append({"system": "phone", "value": row.phone})
        if row.email:
            telecom.append({"system": "email", "value": row.email})
        if telecom:
            out["telecom"] = telecom
        if row.address:
            out["address"] = [{"text": row.address}]
        period = {"start": instant(row.joined_at or row.added_at)}
        if row.ended_at:
            period["end"] = instant(row.ended_at)
        out["period"] = period
        return out


def _consent(row: NetworkMember) -> dict[str, Any]:
    """Each consent as a boolean (true only when agreed: what the team may do) and the answer
    itself (not-asked | agreed | refused), with when it was recorded once answered."""
    parts: list[dict[str, Any]] = []
    for name, answer, recorded_at in (
        ("contact", row.contact_consent, row.consent_recorded_at),
        ("information", row.information_consent, row.information_consent_recorded_at),
    ):
        parts.append({"url": name, "valueBoolean": answer == NetworkMember.Consent.AGREED})
        parts.append({"url": f"{name}Answer", "valueCode": answer.replace("_", "-")})
        if answer != NetworkMember.Consent.NOT_ASKED and recorded_at:
            parts.append({"url": f"{name}Recorded", "valueDateTime": instant(recorded_at)})
    return {"url": t.pod_extension("network-member-consent"), "extension": parts}
