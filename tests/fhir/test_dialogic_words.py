"""Dialogic words stay out of the API: what was said in a meeting (voices and reflections),
the decisions' text, care plans and the reason for referral appear in no resource, searched
or exported."""

from __future__ import annotations

import json

import pytest

from meetings.models import CarePlanVersion, Decision, Utterance
from pod.fhir.registry import all_mappers

pytestmark = pytest.mark.django_db

SECRET_WORDS = ("ZEBRA-VOICE", "ZEBRA-REFLECTION", "ZEBRA-DECISION", "ZEBRA-PLAN")


def test_no_resource_carries_what_was_said(client, team, machine, rich, clinician):
    meeting = rich.meetings["held"][0]
    participant = meeting.participants.first()
    for position, (kind, words) in enumerate(
        (("voice", SECRET_WORDS[0]), ("reflection", SECRET_WORDS[1])), start=1
    ):
        Utterance.objects.create(
            meeting=meeting,
            participant=participant,
            kind=kind,
            words=words,
            position=position,
            recorded_by=clinician,
        )
    Decision.objects.create(
        meeting=meeting, kind="care", text=SECRET_WORDS[2], recorded_by=clinician
    )
    CarePlanVersion.objects.create(
        episode=rich.episode,
        version=1,
        meeting=meeting,
        what_matters=SECRET_WORDS[3],
        actions=SECRET_WORDS[3],
        responsible=SECRET_WORDS[3],
        person_agreed=True,
        created_by=clinician,
    )
    clinician_client = machine("clinician", [team])
    admin_client = machine("administrator", [team])
    everything = []
    for mapper in all_mappers():
        headers = admin_client if mapper.type_name == "AuditEvent" else clinician_client
        everything.append(client.get(f"/fhir/{mapper.type_name}?_count=1000", **headers).content)
    text = b"".join(everything).decode()
    assert json.loads(everything[0])  # the API answered
    for words in (*SECRET_WORDS, rich.episode.reason):
        assert words not in text
