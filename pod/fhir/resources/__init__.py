"""One mapper per FHIR resource type; importing this package registers them all."""

from pod.fhir.resources import (  # noqa: F401 (registers the mappers)
    audit_event,
    care_team,
    episode_of_care,
    flag,
    measures,
    medication_request,
    meetings,
    organization,
    patient,
    related_person,
)
