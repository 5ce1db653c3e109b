"""A clinician records the date of a relapse with the assessment that found it."""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from outcomes import services
from outcomes.models import OutcomeAssessment

pytestmark = pytest.mark.hazard("HAZ-11.C9")


def _post(client, person, **data):
    url = reverse("outcomes:assessment_new", args=[person.pk])
    return client.post(
        url,
        {"symptom_level": "mild", "hospital_bed_days": 0, "relapse": "on", **data},
    )


def test_a_relapse_date_is_saved_with_its_assessment(client, clinician, service_user):
    client.force_login(clinician)
    assert (
        _post(client, service_user, timepoint_months=0, assessed_on="2025-01-10").status_code == 302
    )
    response = _post(
        client, service_user, timepoint_months=12, assessed_on="2026-01-12", relapse_on="2025-06-01"
    )
    assert response.status_code == 302
    assert str(OutcomeAssessment.objects.get(timepoint_months=12).relapse_on) == "2025-06-01"


@pytest.mark.parametrize(
    "data,message",
    [
        ({"relapse": "", "relapse_on": "2025-06-01"}, "needs a relapse"),
        ({"relapse_on": "2026-02-01"}, "on or before the assessment"),
        ({"relapse_on": "2025-01-10"}, "after the baseline assessment"),
    ],
)
def test_an_impossible_relapse_date_is_refused_at_the_field(
    client, clinician, service_user, data, message
):
    client.force_login(clinician)
    _post(client, service_user, timepoint_months=0, assessed_on="2025-01-10")
    page = _post(client, service_user, timepoint_months=12, assessed_on="2026-01-12", **data)
    assert page.status_code == 200
    assert message in " ".join(page.context["form"].errors["relapse_on"])
    assert not OutcomeAssessment.objects.filter(timepoint_months=12).exists()


@pytest.mark.parametrize(
    "relapse,relapse_on,message",
    [(False, date(2025, 6, 1), "needs a relapse"), (True, date(2026, 2, 1), "on or before")],
)
def test_the_service_checks_the_relapse_date_again(
    clinician, service_user, relapse, relapse_on, message
):
    with pytest.raises(ValidationError) as refused:
        services.outcome_assessment_record(
            service_user=service_user,
            recorded_by=clinician,
            now=datetime(2026, 3, 1, tzinfo=UTC),
            timepoint_months=12,
            assessed_on=date(2026, 1, 12),
            symptom_level="mild",
            relapse=relapse,
            relapse_on=relapse_on,
            hospital_bed_days=0,
            disability_benefit=False,
            neuroleptic_use=False,
            work_or_study=True,
        )
    assert message in " ".join(refused.value.message_dict["relapse_on"])
    assert not OutcomeAssessment.objects.exists()
