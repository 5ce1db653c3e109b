"""The demo service has something at every stage of care (running clocks, every alert, closed
episodes, prescriptions with and without an override, both trial arms), and loads once."""

from io import StringIO

import pytest
from django.core.management import call_command

from meetings.models import Alert, Episode, Prescription
from outcomes.models import OutcomeAssessment
from pod.foundation.models import Trust, User


@pytest.mark.django_db(transaction=True)
def test_it_builds_a_service_at_every_stage_and_only_once(settings):
    settings.DEBUG = True  # demo authenticators exist only in demo mode
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("demo_data", stdout=StringIO())

    assert Trust.objects.count() == 4
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == {choice for choice, _ in User.Role.choices}
    assert Episode.objects.filter(status=Episode.Status.REFERRED).count() >= 3  # clocks running
    kinds = set(Alert.objects.values_list("kind", flat=True))
    assert {"unscheduled", "at_risk", "breached", "medication_override"} <= kinds
    assert Episode.objects.filter(status=Episode.Status.CLOSED).exists()
    assert Prescription.objects.exclude(override_reason="").exists()
    assert Prescription.objects.filter(override_reason="", meetings_held_before__gte=3).exists()
    arms = set(OutcomeAssessment.objects.values_list("service_user__trial_arm", flat=True))
    assert arms == {"POD", "TAU"}

    counts = (User.objects.count(), Episode.objects.count(), Alert.objects.count())
    out = StringIO()
    call_command("demo_data", stdout=out)
    assert "already loaded" in out.getvalue()
    assert (User.objects.count(), Episode.objects.count(), Alert.objects.count()) == counts
