"""Code systems, identifier systems and POD's own extensions, with their documentation.

Standard systems are used wherever one fits (NHS number, ODS code, LOINC, UCUM, HL7 v3
RoleCode and ActCode, the FHIR Observation and Flag categories, DICOM audit codes). POD's own
codes and extensions live under settings.POD_FHIR_CANONICAL_BASE; EXTENSIONS documents each
one (the OpenAPI description and the README's "Interoperability" section are built from, and
tested against, this list).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
V3_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
# UK Core: the NHS number's verification status. POD checks an NHS number's check digit but
# never traces it against the Personal Demographics Service, so the honest value is always
# "02 Number present but not traced".
UKCORE_NHS_NUMBER_VERIFICATION = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
)
UKCORE_NHS_NUMBER_VERIFICATION_SYSTEM = (
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"
)
BULK_EXPORT_OPERATION = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"


def canonical(path: str) -> str:
    """`<POD_FHIR_CANONICAL_BASE>/<path>`."""
    base: str = settings.POD_FHIR_CANONICAL_BASE
    return f"{base.rstrip('/')}/{path}"


def pod_system(name: str) -> str:
    """The URL of POD's code system or identifier system `name`."""
    return canonical(f"CodeSystem/{name}")


def pod_extension(name: str) -> str:
    """The URL of POD's extension `name` (documented in EXTENSIONS)."""
    return canonical(f"StructureDefinition/{name}")


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    """A Coding; `display` left out when None."""
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def staff_reference(user: object) -> dict[str, object]:
    """A logical reference to a member of staff: their name and POD username (POD serves no
    Practitioner resources)."""
    return staff_ref(getattr(user, "username", ""), str(user))


def staff_ref(username: str, display: str) -> dict[str, object]:
    return {"identifier": {"system": pod_system("staff"), "value": username}, "display": display}


@dataclass(frozen=True)
class ExtensionDoc:
    """One of POD's extensions, documented like a StructureDefinition's differential."""

    name: str  # the last part of its URL
    context: str  # the element it sits on
    value: str  # value[x] type, or "complex" (then see `parts`)
    description: str
    parts: tuple[tuple[str, str, str], ...] = field(default=())  # (url, value type, meaning)
    pending: str = ""  # what it waits for, when part of it cannot be filled yet

    @property
    def url(self) -> str:
        return pod_extension(self.name)


EXTENSIONS: tuple[ExtensionDoc, ...] = (
    ExtensionDoc(
        "episode-referral",
        "EpisodeOfCare",
        "complex",
        "The referral that opened the episode: when it was received (the 24-hour clock starts "
        "then) and where it came from.",
        (
            ("received", "dateTime", "When the referral was received"),
            ("source", "Coding", "Who referred (CodeSystem referral-source)"),
        ),
    ),
    ExtensionDoc(
        "episode-triage",
        "EpisodeOfCare",
        "Coding",
        "The referral's category on the UK Mental Health Triage Scale (A emergency ... G "
        "referral not requiring a face-to-face response; CodeSystem uk-mental-health-triage).",
    ),
    ExtensionDoc(
        "first-meeting-due",
        "EpisodeOfCare",
        "dateTime",
        "When the first network meeting is due: the referral plus POD_FIRST_MEETING_HOURS "
        "(24 by default) of elapsed time.",
    ),
    ExtensionDoc(
        "first-meeting-held",
        "EpisodeOfCare",
        "dateTime",
        "When the first network meeting of the episode started; absent until one is held.",
    ),
    ExtensionDoc(
        "network-member-consent",
        "RelatedPerson",
        "complex",
        "The network member's consents as POD records them (the database refuses a consent "
        "without its date and who took it).",
        (
            ("contact", "boolean", "Consents to be contacted by the team and invited"),
            ("contactRecorded", "dateTime", "When that consent was recorded"),
            ("information", "boolean", "Consents to be given information about the care"),
            ("informationRecorded", "dateTime", "When that consent was recorded"),
        ),
    ),
    ExtensionDoc(
        "medication-rule",
        "MedicationRequest",
        "complex",
        "What the 3-meetings-before-medication rule found when the medicine was prescribed: "
        "the network meetings held in the episode before it, the outcome (continuing: the "
        "rule does not apply; met; overridden: the rapid-response override, with its written "
        "reason; violated: found by POD's audit of prescriptions that bypassed the form).",
        (
            ("meetingsHeldBefore", "unsignedInt", "Network meetings held before it"),
            ("outcome", "code", "continuing | met | overridden | violated"),
            ("overrideReason", "code", "rapid_response, when overridden"),
            ("overrideExplanation", "string", "The prescriber's written reason"),
        ),
        pending="The threshold in force, the rule's version and the meetings counted are "
        "stored on each prescription by issue 10; they are added here when it lands.",
    ),
)
