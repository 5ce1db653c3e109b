"""One row whose check raises cannot stop a sweep for the others.

The 24-hour sweep and the prescriptions audit each claim a batch in one transaction; a row whose
check raised used to roll back the whole batch, and every run claimed the same batch again, so
no clock (or prescription) in the service was checked. The rules are poisoned here for one row,
with an exception whose message quotes the person, as a defect might.
"""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from meetings import rules
from meetings.models import Alert, Episode, Prescription
from meetings.sweeps import CLOCK_RETRY_AFTER, first_meeting_sweep, prescriptions_audit
from tests import factories as f


class Poison:
    """Wraps a rule so that it raises for the rows `poisoned(kwargs)` picks, counting those."""

    def __init__(self, rule, poisoned, message):
        self.rule, self.poisoned, self.message, self.raised = rule, poisoned, message, 0
        self.active = True

    def __call__(self, **kwargs):
        if self.active and self.poisoned(kwargs):
            self.raised += 1
            raise ValueError(self.message)
        return self.rule(**kwargs)


def assert_logged_without_personal_data(caplog, row_id, person):
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    record = errors[0]
    text = record.getMessage()
    assert str(row_id) in text and "ValueError" in text
    for personal in (person.family_name, person.given_name, person.nhs_number):
        assert personal not in text
    assert record.exc_info is None  # a traceback would print the exception's message


@pytest.mark.hazard("HAZ-01.C8")
@pytest.mark.django_db(transaction=True)
def test_one_poisoned_episode_among_50_due_ones_does_not_stop_the_others(
    team, clinician, clinician2, referral_at, monkeypatch, caplog
):
    episodes = [
        f.make_episode(
            team=team,
            core_team=[clinician, clinician2],
            # One second apart, so the poisoned one is known by its facts alone.
            referral_received_at=referral_at + timedelta(seconds=i),
        )
        for i in range(50)
    ]
    bad = episodes[17]
    person = bad.service_user
    poison = Poison(
        rules.clock_alerts_due,
        lambda kw: kw["facts"].referral_received_at == bad.referral_received_at,
        f"cannot judge the clock of {person.given_name} {person.family_name}",
    )
    monkeypatch.setattr(rules, "clock_alerts_due", poison)
    now = episodes[-1].first_meeting_due_at  # every one of the 50 is due

    with caplog.at_level(logging.ERROR, logger="meetings.sweeps"):
        raised = first_meeting_sweep(now=now, batch_size=20)  # the bad one in the first batch

    assert raised == 49
    breached = set(Alert.objects.filter(kind="breached").values_list("episode_id", flat=True))
    assert breached == {e.pk for e in episodes} - {bad.pk}
    # ... delivered after commit, like any alert.
    assert not Alert.objects.filter(delivered_at__isnull=True).exists()
    bad.refresh_from_db()
    assert bad.clock_next_check_at == now + CLOCK_RETRY_AFTER
    assert_logged_without_personal_data(caplog, bad.pk, person)

    # The next sweeps neither spin on it nor fail: it waits for its retry time.
    assert poison.raised == 1
    assert first_meeting_sweep(now=now + timedelta(minutes=1)) == 0
    assert poison.raised == 1
    assert Episode.objects.get(pk=bad.pk).clock_next_check_at == now + CLOCK_RETRY_AFTER

    # Once the fault is gone, its retry raises its breach.
    poison.active = False
    assert first_meeting_sweep(now=now + CLOCK_RETRY_AFTER) == 1
    assert Alert.objects.filter(episode=bad, kind="breached").exists()


@pytest.mark.hazard("HAZ-03.C6")
@pytest.mark.django_db(transaction=True)
def test_one_poisoned_prescription_does_not_stop_the_audit_of_the_others(
    episode, prescriber, referral_at, monkeypatch, caplog
):
    at = referral_at + timedelta(hours=3)
    # New medicines with no meeting held, as if entered through the admin or an import.
    rows = [
        Prescription.objects.create(
            episode=episode,
            medicine=f"Medicine {i}",
            is_new=True,
            is_antipsychotic=True,
            prescriber=prescriber,
            prescribed_at=at,
            override_explanation="poison" if i == 2 else "",
        )
        for i in range(6)
    ]
    bad = rows[2]
    person = episode.service_user
    poison = Poison(
        rules.prescription_violates_rule,
        lambda kw: kw["override_explanation"] == "poison",
        f"cannot judge the prescription of {person.family_name}",
    )
    monkeypatch.setattr(rules, "prescription_violates_rule", poison)
    now = timezone.now()

    with caplog.at_level(logging.ERROR, logger="meetings.sweeps"):
        assert prescriptions_audit(now=now, batch_size=4) == 5

    alerted = set(
        Alert.objects.filter(kind="medication_violation").values_list("prescription_id", flat=True)
    )
    assert alerted == {p.pk for p in rows} - {bad.pk}
    assert set(Prescription.objects.filter(audited_at__isnull=True)) == {bad}
    assert poison.raised == 1  # skipped for the rest of the run, not claimed again and again
    assert_logged_without_personal_data(caplog, bad.pk, person)

    # The next run tries it again; once the fault is gone it is audited like the others.
    poison.active = False
    assert prescriptions_audit(now=now + timedelta(minutes=5)) == 1
    assert not Prescription.objects.filter(audited_at__isnull=True).exists()
