"""Patient: the person POD holds a record for (networks.ServiceUser)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from networks.models import ServiceUser
from networks.selectors import service_users_for
from pod.fhir import terminology as t
from pod.fhir.registry import (
    CLINICAL,
    Include,
    Mapper,
    SearchError,
    SearchParam,
    fhir_date,
    reference,
    register,
)
from pod.foundation.models import User
from pod.foundation.numbers import is_ascii_digits


@register
class PatientMapper(Mapper):
    type_name = "Patient"
    description = (
        "The person: NHS number (https://fhir.nhs.uk/Id/nhs-number, with UK Core's verification "
        "status 02 'present but not traced': POD checks the check digit, never PDS), name and "
        "preferred name, birth date, phone, email and address, and the team holding the record."
    )
    model = ServiceUser
    roles = CLINICAL
    person_path = "pk"
    team_path = "team_id"
    audit_table = "networks_serviceuser"
    created_path = "created_at"
    extra_params = (
        SearchParam(
            "identifier",
            "token",
            "The NHS number, as https://fhir.nhs.uk/Id/nhs-number|<10 digits> or the digits "
            "alone. Send it in the body of POST /fhir/Patient/_search, not in a URL.",
        ),
    )
    includes = (Include("organization", "Organization", "team_id"),)

    def visible(self, user: User) -> QuerySet[ServiceUser]:
        if user.role not in CLINICAL:
            return ServiceUser.objects.none()
        return service_users_for(user)

    def filter_param(self, rows: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if name != "identifier":
            return super().filter_param(rows, name, value)
        system, bar, digits = value.rpartition("|")
        if bar and system not in ("", t.NHS_NUMBER):
            return rows.none()  # an identifier of another system: no POD person has one
        if not (is_ascii_digits(digits) and len(digits) == 10):
            raise SearchError("identifier: an NHS number is 10 digits")
        return rows.filter(nhs_number=digits)

    def to_fhir(self, row: ServiceUser) -> dict[str, Any]:
        out = self.start(row)
        out["identifier"] = [
            {
                "extension": [
                    {
                        "url": t.UKCORE_NHS_NUMBER_VERIFICATION,
                        "valueCodeableConcept": {
                            "coding": [
                                t.coding(
                                    t.UKCORE_NHS_NUMBER_VERIFICATION_SYSTEM,
                                    "02",
                                    "Number present but not traced",
                                )
                            ]
                        },
                    }
                ],
                "system": t.NHS_NUMBER,
                "value": row.nhs_number,
            }
        ]
        out["active"] = True
        names: list[dict[str, Any]] = [
            {"use": "official", "family": row.family_name, "given": [row.given_name]}
        ]
        if row.preferred_name:
            names.append({"use": "usual", "family": row.family_name, "given": [row.preferred_name]})
        out["name"] = names
        telecom = []
        if row.phone:
            telecom.append({"system": "phone", "value": row.phone})
        if row.email:
            telecom.append({"system": "email", "value": row.email})
        if telecom:
            out["telecom"] = telecom
        if row.date_of_birth:
            out["birthDate"] = fhir_date(row.date_of_birth)
        if row.address or row.postcode:
            address: dict[str, Any] = {}
            if row.address:
                address["text"] = row.address
            if row.postcode:
                address["postalCode"] = row.postcode
            out["address"] = [address]
        out["managingOrganization"] = reference("Organization", row.team_id)
        return out
