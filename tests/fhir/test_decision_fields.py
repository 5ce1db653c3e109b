"""The fields issue 10 added reach the API (issue 15): a prescription's stored decision (the
meetings counted, as Encounter references, the threshold, the rule's version) and the current
medicine it continues; who called a meeting off and when, coded; one Appointment per meeting
however often it is moved; and, on the Encounter, "recorded after the event" and whether the
meeting counts for the medication rule. Every resource read here is valid R4."""

from __future__ import annotations

from datetime import timedelta

import pytest

from meetings.medication_rules import RULE_VERSION
from meetings.models import Meeting, Prescription
from meetings.services.lifecycle import meeting_cancel, meeting_reschedule
from meetings.services.meetings import meeting_record_held, meeting_schedule
from pod.fhir import terminology as t
from pod.fhir.registry import instant
from tests.fhir.validation import assert_valid

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, machine, team):
    headers = machine("clinician", [team])

    def get(path):
        response = client.get(path, **headers)
        assert response.status_code == 200, response.content
        resource = response.json()
        assert_valid(resource)
        return resource

    return get


def _extension(resource, name):
    found = [e for e in resource.get("extension", []) if e["url"] == t.pod_extension(name)]
    assert len(found) <= 1
    return found[0] if found else None


def _parts(extension):
    """{url: [values]} of a complex extension (a part may repeat)."""
    out: dict[str, list] = {}
    for part in extension["extension"]:
        value = next(v for k, v in part.items() if k.startswith("value"))
        out.setdefault(part["url"], []).append(value)
    return out


def _follow(api, reference):
    return api(f"/fhir/{reference['reference']}")


@pytest.mark.hazard("HAZ-11.C85")
def test_a_prescriptions_decision_can_be_replayed_from_the_api_alone(api, rich, settings):
    bundle = api(f"/fhir/MedicationRequest?patient={rich.person.pk}&_count=100")
    requests = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}
    assert len(requests) == 4
    replayed = 0
    for resource in requests.values():
        row = Prescription.objects.get(pk=resource["id"])
        rule = _parts(_extension(resource, "medication-rule"))
        counted = rule.get("countedMeeting", [])
        # Exactly the stored decision, in order: an Encounter per counted meeting id.
        assert [c["reference"] for c in counted] == [
            f"Encounter/{i}" for i in row.counted_meeting_ids or []
        ]
        if not row.rule_version:
            # Made before the decision was stored (the violation): nothing is invented.
            assert not {"countedMeeting", "meetingsRequired", "ruleVersion"} & set(rule)
            continue
        assert rule["ruleVersion"] == [RULE_VERSION]
        assert rule["meetingsRequired"] == [settings.POD_MEETINGS_BEFORE_MEDICATION]
        assert rule["meetingsHeldBefore"] == [len(counted)]
        # Replay: each counted meeting is a held meeting of the same person before the
        # prescription that the API says counts, and the count against the threshold gives the
        # outcome.
        for reference in counted:
            encounter = _follow(api, reference)
            assert encounter["status"] == "finished"
            assert encounter["subject"] == resource["subject"]
            assert encounter["period"]["start"] < resource["authoredOn"]
            counts = _extension(encounter, "counts-as-network-meeting")
            assert counts == {
                "url": t.pod_extension("counts-as-network-meeting"),
                "valueBoolean": True,
            }
        enough = len(counted) >= rule["meetingsRequired"][0]
        expected = (
            "continuing"
            if resource["category"][0]["coding"][0]["code"] == "continuing"
            else "met"
            if enough
            else "overridden"
        )
        assert rule["outcome"] == [expected]
        replayed += 1
    assert replayed == 3  # met, overridden, continuing
    met = _parts(_extension(requests[str(rich.prescriptions["met"].pk)], "medication-rule"))
    assert [c["reference"] for c in met["countedMeeting"]] == [
        f"Encounter/{m.pk}" for m in rich.meetings["held"]
    ]
    override = _parts(
        _extension(requests[str(rich.prescriptions["override"].pk)], "medication-rule")
    )
    assert "countedMeeting" not in override and override["meetingsHeldBefore"] == [0]


def test_a_continuing_prescription_names_the_current_medicine_it_continues(api, rich, bare):
    continuing = rich.prescriptions["continuing"]
    entry = continuing.current_medication
    resource = api(f"/fhir/MedicationRequest/{continuing.pk}")
    parts = _parts(_extension(resource, "continues-current-medication"))
    assert parts == {
        "entry": [{"system": t.pod_system("current-medication"), "value": str(entry.pk)}],
        "medicine": ["Sertraline"],
        "source": [
            {
                "system": t.pod_system("current-medication-source"),
                "code": "gp_record",
                "display": "GP record or summary care record",
            }
        ],
        "sourceDate": [entry.source_date.isoformat()],
        "recorded": [instant(entry.recorded_at)],
    }
    assert "basedOn" not in resource and "priorPrescription" not in resource
    for name in ("met", "override"):
        new = api(f"/fhir/MedicationRequest/{rich.prescriptions[name].pk}")
        assert _extension(new, "continues-current-medication") is None
    bare_one = api(f"/fhir/MedicationRequest/{bare['prescription'].pk}")
    bare_source = _parts(_extension(bare_one, "continues-current-medication"))["source"]
    assert bare_source[0]["code"] == "person"


@pytest.mark.parametrize(
    ("party", "code", "display"),
    [("person", "pat", "Patient"), ("team", "prov", "Provider"), ("network", "other", "Other")],
)
def test_a_cancelled_appointment_says_who_called_it_off_why_and_when(
    api, rich, clinician, referral_at, party, code, display
):
    meeting = meeting_schedule(
        episode=rich.episode,
        scheduled_start=referral_at + timedelta(days=12),
        scheduled_end=referral_at + timedelta(days=12, hours=1),
        location="home",
        staff=[clinician],
        network_members=[rich.members["sister"]],
        created_by=clinician,
        now=referral_at + timedelta(days=5),
    )
    cancelled_at = referral_at + timedelta(days=6, minutes=7)
    meeting_cancel(
        meeting=meeting,
        called_off_by=party,
        reason="Unwell with flu",
        changed_by=clinician,
        now=cancelled_at,
    )
    appointment = api(f"/fhir/Appointment/{meeting.pk}")
    assert appointment["status"] == "cancelled"
    assert appointment["cancelationReason"]["text"] == "Unwell with flu"
    hl7, pod = appointment["cancelationReason"]["coding"]
    assert hl7 == {"system": t.APPOINTMENT_CANCELLATION_REASON, "code": code, "display": display}
    assert pod["system"] == t.pod_system("called-off-by") and pod["code"] == party
    parts = _parts(_extension(appointment, "meeting-cancelled"))
    assert parts["at"] == [instant(cancelled_at)]
    assert parts["calledOffBy"] == [pod]
    assert api(f"/fhir/Encounter/{meeting.pk}")["status"] == "cancelled"


def test_a_meeting_cancelled_before_who_and_when_were_kept_gives_what_is_known(api, rich):
    meeting = rich.meetings["scheduled"]
    Meeting.objects.filter(pk=meeting.pk).update(status="cancelled", cancelled_reason="Moved")
    appointment = api(f"/fhir/Appointment/{meeting.pk}")
    assert appointment["cancelationReason"] == {"text": "Moved"}
    assert "extension" not in appointment
    Meeting.objects.filter(pk=meeting.pk).update(cancelled_reason="")
    assert "cancelationReason" not in api(f"/fhir/Appointment/{meeting.pk}")


def test_a_rescheduled_meeting_stays_one_appointment_with_the_new_times(
    api, client, machine, team, rich, clinician, referral_at
):
    meeting = rich.meetings["scheduled"]
    before = api(f"/fhir/Appointment/{meeting.pk}")
    start = referral_at + timedelta(days=14, hours=9)
    end = start + timedelta(hours=1, minutes=30)
    for shift in (timedelta(0), timedelta(days=1)):
        meeting_reschedule(
            meeting=meeting,
            scheduled_start=start + shift,
            scheduled_end=end + shift,
            location="video",
            location_detail="",
            staff=[clinician],
            network_members=[rich.members["sister"]],
            reason="The team base is closed",
            changed_by=clinician,
            now=referral_at + timedelta(days=6),
        )
    after = api(f"/fhir/Appointment/{meeting.pk}")
    assert after["id"] == before["id"] and after["status"] == "booked"
    assert (after["start"], after["end"]) != (before["start"], before["end"])
    assert (after["start"], after["end"]) == (
        instant(start + timedelta(days=1)),
        instant(end + timedelta(days=1)),
    )
    encounter = api(f"/fhir/Encounter/{meeting.pk}")
    assert encounter["period"] == {"start": after["start"], "end": after["end"]}
    booked = api(f"/fhir/Appointment?patient={rich.person.pk}&status=booked")
    assert [e["resource"]["id"] for e in booked["entry"]] == [str(meeting.pk)]


def test_an_encounter_says_when_it_was_recorded_and_whether_it_counts(
    api, rich, clinician, referral_at
):
    first = rich.meetings["held"][0]
    first.refresh_from_db()
    encounter = api(f"/fhir/Encounter/{first.pk}")
    assert _parts(_extension(encounter, "recorded-held")) == {
        "recorded": [instant(first.recorded_held_at)],
        "afterTheEvent": [False],
    }
    assert _extension(encounter, "counts-as-network-meeting")["valueBoolean"] is True
    # Recorded days after it ended: "recorded after the event".
    late = rich.meetings["scheduled"]
    meeting_record_held(
        meeting=late,
        actual_start=late.scheduled_start,
        actual_end=late.scheduled_end,
        attended={p.pk: True for p in late.participants.all()},
        recorded_by=clinician,
        now=late.scheduled_end + timedelta(days=3),
    )
    late.refresh_from_db()
    assert late.recorded_after_event is True
    encounter = api(f"/fhir/Encounter/{late.pk}")
    assert _parts(_extension(encounter, "recorded-held"))["afterTheEvent"] == [True]
    counts = _extension(encounter, "counts-as-network-meeting")["valueBoolean"]
    assert counts is late.counts_as_network_meeting
    # A held meeting that does not count says so, rather than leaving it out.
    Meeting.objects.filter(pk=first.pk).update(counts_as_network_meeting=False)
    encounter = api(f"/fhir/Encounter/{first.pk}")
    assert _extension(encounter, "counts-as-network-meeting")["valueBoolean"] is False
    # Not held: neither extension.
    planned = api(f"/fhir/Encounter/{rich.meetings['cancelled'].pk}")
    assert "extension" not in planned


def test_a_meeting_recorded_before_these_were_kept_has_neither(api, rich):
    first = rich.meetings["held"][0]
    Meeting.objects.filter(pk=first.pk).update(
        recorded_held_at=None, recorded_after_event=None, counts_as_network_meeting=None
    )
    assert "extension" not in api(f"/fhir/Encounter/{first.pk}")
