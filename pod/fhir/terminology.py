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
# Example codes for Appointment.cancelationReason; POD codes who called the meeting off with
# the nearest: the person -> pat, the team -> prov, the network (neither) -> other.
APPOINTMENT_CANCELLATION_REASON = (
    "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
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
            ("contact", "boolean", "Agreed to be contacted by the team and invited"),
            ("contactAnswer", "code", "not-asked | agreed | refused"),
            ("contactRecorded", "dateTime", "When that answer was recorded (agreed or refused)"),
            ("information", "boolean", "Agreed to be given information about the care"),
            ("informationAnswer", "code", "not-asked | agreed | refused"),
            ("informationRecorded", "dateTime", "When that answer was recorded"),
        ),
    ),
    ExtensionDoc(
        "medication-rule",
        "MedicationRequest",
        "complex",
        "What the 3-meetings-before-medication rule found when the medicine was prescribed, "
        "as stored on the prescription so that the decision can be replayed: the network "
        "meetings held in the episode before it and which ones were counted (each an Encounter, "
        "whose id is the meeting's), the number required (POD_MEETINGS_BEFORE_MEDICATION when "
        "prescribed), the version of the counting rule (meetings.medication_rules.RULE_VERSION), "
        "and the outcome (continuing: the rule does not apply; met; overridden: the "
        "rapid-response override, with its written reason; violated: found by POD's audit of "
        "prescriptions that bypassed the form). Prescriptions made before issue 10 carry no "
        "countedMeeting, meetingsRequired or ruleVersion; with a ruleVersion and no "
        "countedMeeting, none was counted.",
        (
            ("meetingsHeldBefore", "unsignedInt", "Network meetings counted before it"),
            (
                "countedMeeting",
                "Reference(Encounter)",
                "A meeting the rule counted (repeats: one per counted meeting)",
            ),
            ("meetingsRequired", "unsignedInt", "The threshold in force: meetings required"),
            ("ruleVersion", "string", "The version of the counting rule it was decided under"),
            ("outcome", "code", "continuing | met | overridden | violated"),
            ("overrideReason", "code", "rapid_response, when overridden"),
            ("overrideExplanation", "string", "The prescriber's written reason"),
        ),
    ),
    ExtensionDoc(
        "continues-current-medication",
        "MedicationRequest",
        "complex",
        "For a continuing medicine: the entry of the person's current-medication list it "
        "continues (POD allows a continuing prescription only for a medicine on that list), "
        "with where the team learnt of it. Not basedOn or priorPrescription: the entry is not "
        "a MedicationRequest POD holds.",
        (
            ("entry", "Identifier", "The list entry (system CodeSystem current-medication)"),
            ("medicine", "string", "The medicine as the list names it"),
            ("dose", "string", "The dose as the list records it, when recorded"),
            ("source", "Coding", "Where it was learnt (CodeSystem current-medication-source)"),
            ("sourceDetail", "string", "Which letter, record or account, when given"),
            ("sourceDate", "date", "The date of that source"),
            ("recorded", "dateTime", "When it was put on the list"),
        ),
    ),
    ExtensionDoc(
        "meeting-cancelled",
        "Appointment",
        "complex",
        "When a cancelled meeting was called off, and by whom (the person, their network or "
        "the team; also coded in cancelationReason). Absent for meetings cancelled before "
        "issue 10 kept these.",
        (
            ("at", "dateTime", "When it was cancelled"),
            ("calledOffBy", "Coding", "person | network | team (CodeSystem called-off-by)"),
        ),
    ),
    ExtensionDoc(
        "recorded-held",
        "Encounter",
        "complex",
        "When a held meeting was recorded as held, and whether that was after the event: more "
        "than POD_RECORDED_AFTER_EVENT_HOURS after it ended (meetings.medication_rules). "
        "Absent while not held, and for meetings recorded before POD kept it.",
        (
            ("recorded", "dateTime", "When it was recorded as held"),
            ("afterTheEvent", "boolean", "Recorded after the event"),
        ),
    ),
    ExtensionDoc(
        "counts-as-network-meeting",
        "Encounter",
        "boolean",
        "Whether this held meeting counts as a network meeting for the 3-meetings-before-"
        "medication rule (plausible, attended, distinct: meetings.medication_rules), as POD "
        "last recomputed it for the episode; absent while not held.",
    ),
)
