"""The 3-meetings-before-medication rule in the prescribing transaction, and the audit."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from meetings import medication_rules
from meetings.models import Alert, Prescription
from meetings.services.meetings import meeting_record_held, meeting_schedule
from meetings.services.prescriptions import current_medication_add, prescription_create
from meetings.sweeps import prescriptions_audit
from tests import factories as f


def hold_meetings(episode, staff, n, start):
    for i in range(n):
        at = start + timedelta(days=i)
        meeting = meeting_schedule(
            episode=episode,
            scheduled_start=at,
            scheduled_end=at + timedelta(hours=1),
            location="home",
            staff=staff,
            created_by=staff[0],
            now=at - timedelta(hours=1),
        )
        meeting_record_held(
            meeting=meeting,
            actual_start=at,
            actual_end=at + timedelta(hours=1),
            attended={p.pk: True for p in meeting.participants.all()},
            recorded_by=staff[0],
            now=at + timedelta(hours=2),
        )
    return start + timedelta(days=n)


def prescribe(episode, prescriber, at, **kw):
    """A prescription of Olanzapine at `at`; `is_new=False` puts it on the person's
    current-medication list first and continues it."""
    if not kw.pop("is_new", True):
        kw["continuing"] = current_medication_add(
            episode=episode,
            medicine="Olanzapine",
            source="gp_record",
            source_date=episode.referral_received_at.date(),
            recorded_by=None,
            now=at,
        )
    return prescription_create(
        episode=episode,
        medicine="Olanzapine",
        dose="5 mg at night",
        is_antipsychotic=True,
        prescriber=prescriber,
        prescribed_at=at,
        now=at,
        **kw,
    )


@pytest.fixture
def staff(clinician, clinician2):
    return [clinician, clinician2]


@pytest.mark.hazard("HAZ-03.C2")
def test_it_allows_a_new_medicine_after_three_held_meetings(
    episode, staff, prescriber, referral_at
):
    after = hold_meetings(episode, staff, 3, referral_at + timedelta(hours=2))
    prescription = prescribe(episode, prescriber, after)
    assert prescription.meetings_held_before == 3
    assert not Alert.objects.filter(prescription=prescription).exists()


@pytest.mark.hazard("HAZ-03.C2")
def test_it_refuses_a_new_medicine_after_two_meetings_and_saves_nothing(
    episode, staff, prescriber, referral_at
):
    after = hold_meetings(episode, staff, 2, referral_at + timedelta(hours=2))
    with pytest.raises(ValidationError, match="2 of 3 network meetings"):
        prescribe(episode, prescriber, after)
    assert not Prescription.objects.exists()


@pytest.mark.hazard("HAZ-03.C41")
def test_the_prescription_stores_the_decision_it_was_made_under(
    episode, staff, prescriber, referral_at
):
    after = hold_meetings(episode, staff, 3, referral_at + timedelta(hours=2))
    prescription = prescribe(episode, prescriber, after)
    held = list(episode.meetings.order_by("actual_start").values_list("pk", flat=True))
    assert prescription.counted_meeting_ids == held
    assert prescription.meetings_required == 3
    assert prescription.rule_version == medication_rules.RULE_VERSION
    assert prescription.is_new and prescription.current_medication is None


@pytest.mark.hazard("HAZ-04.C1")
def test_a_meeting_held_after_the_prescription_does_not_count(
    episode, staff, prescriber, referral_at
):
    hold_meetings(episode, staff, 3, referral_at + timedelta(hours=2))
    with pytest.raises(ValidationError):
        prescribe(episode, prescriber, referral_at + timedelta(days=1, hours=3))


@pytest.mark.hazard("HAZ-03.C3")
def test_the_override_needs_a_written_reason_and_alerts_the_manager(
    episode, staff, prescriber, manager, referral_at, django_capture_on_commit_callbacks
):
    at = hold_meetings(episode, staff, 1, referral_at + timedelta(hours=2))
    with pytest.raises(ValidationError, match="written explanation"):
        prescribe(
            episode, prescriber, at, override_reason="rapid_response", override_explanation=" "
        )
    assert not Prescription.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        prescription = prescribe(
            episode,
            prescriber,
            at,
            override_reason="rapid_response",
            override_explanation="Has not eaten or drunk for three days; physical safety at risk.",
        )
    alert = Alert.objects.get(prescription=prescription, kind="medication_override")
    assert "1 of 3" in alert.message
    assert alert.notifications.filter(user=manager).exists()


@pytest.mark.hazard("HAZ-03.C2")
def test_it_refuses_prescribers_only_and_dates_before_referral(
    episode, clinician, prescriber, referral_at
):
    with pytest.raises(ValidationError, match="Only a prescriber"):
        prescribe(episode, clinician, referral_at + timedelta(hours=1))
    with pytest.raises(ValidationError) as exc:
        prescribe(episode, prescriber, referral_at - timedelta(days=1))
    assert "before the referral" in str(exc.value.message_dict["prescribed_at"])
    assert not Prescription.objects.exists()


@pytest.mark.hazard("HAZ-03.C2", "HAZ-03.C40")
def test_a_continuing_medicine_needs_no_meetings(episode, prescriber, referral_at):
    prescription = prescribe(episode, prescriber, referral_at + timedelta(hours=1), is_new=False)
    assert not prescription.is_new
    assert prescription.current_medication.medicine == "Olanzapine"


@pytest.mark.hazard("HAZ-03.C40")
@pytest.mark.parametrize("explanation", ["ok", "a" * 40, "ok ok ok ok ok ok ok ok", "asdf " * 6])
def test_an_override_needs_a_real_explanation_of_twenty_characters(
    episode, prescriber, referral_at, explanation
):
    at = referral_at + timedelta(hours=1)
    with pytest.raises(ValidationError, match="at least 20 characters") as refused:
        prescribe(
            episode,
            prescriber,
            at,
            override_reason="rapid_response",
            override_explanation=explanation,
        )
    assert "override_explanation" in refused.value.message_dict
    assert not Prescription.objects.exists()


@pytest.mark.hazard("HAZ-03.C40")
def test_continuing_is_only_for_a_medicine_on_this_episodes_list(
    episode, team, clinician, clinician2, prescriber, referral_at
):
    at = referral_at + timedelta(hours=1)
    listed = current_medication_add(
        episode=episode,
        medicine="Sertraline",
        dose="50 mg",
        source="referral",
        source_date=referral_at.date(),
        recorded_by=clinician,
        now=at,
    )
    # Another medicine under a listed one's entry is new, not continuing: refused here.
    with pytest.raises(ValidationError, match="a different medicine is new"):
        prescribe(episode, prescriber, at, continuing=listed)
    # Another person's list does not make this one's medicine continuing.
    other = f.make_episode(
        team=team, core_team=[clinician, clinician2], referral_received_at=referral_at
    )
    with pytest.raises(ValidationError, match="not on this episode's list"):
        prescription_create(
            episode=other,
            medicine="Sertraline",
            continuing=listed,
            is_antipsychotic=False,
            prescriber=prescriber,
            prescribed_at=at,
            now=at,
        )
    assert not Prescription.objects.exists()
    kept = prescription_create(
        episode=episode,
        medicine="",
        continuing=listed,
        is_antipsychotic=False,
        prescriber=prescriber,
        prescribed_at=at,
        now=at,
    )
    assert (kept.medicine, kept.is_new) == ("Sertraline", False)


@pytest.mark.hazard("HAZ-03.C40")
def test_the_database_refuses_a_continuing_row_that_names_no_list_entry(
    episode, prescriber, referral_at
):
    with pytest.raises(IntegrityError), transaction.atomic():
        Prescription.objects.create(
            episode=episode,
            medicine="Olanzapine",
            is_new=False,
            is_antipsychotic=True,
            prescriber=prescriber,
            prescribed_at=referral_at + timedelta(hours=1),
        )


@pytest.mark.hazard("HAZ-03.C4", "HAZ-02.C1")
def test_the_audit_catches_a_prescription_inserted_directly(episode, prescriber, referral_at):
    at = referral_at + timedelta(hours=3)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO meetings_prescription (episode_id, medicine, dose, is_new,"
            " is_antipsychotic, prescriber_id, prescribed_at, override_reason,"
            " override_explanation, created_at)"
            " VALUES (%s, 'Risperidone', '', true, true, %s, %s, '', '', %s)",
            [episode.pk, prescriber.pk, at, at],
        )
    assert prescriptions_audit(now=at + timedelta(minutes=5)) == 1
    alert = Alert.objects.get(kind="medication_violation")
    assert "0 of 3" in alert.message
    # Running it again raises nothing new: the row is audited and the alert is unique.
    assert prescriptions_audit(now=at + timedelta(minutes=10)) == 0
    Prescription.objects.update(audited_at=None)
    assert prescriptions_audit(now=at + timedelta(minutes=15)) == 0
    assert Alert.objects.filter(kind="medication_violation").count() == 1


@pytest.mark.hazard("HAZ-03.C4")
def test_the_audit_passes_prescriptions_made_through_the_rule(
    episode, staff, prescriber, referral_at
):
    after = hold_meetings(episode, staff, 3, referral_at + timedelta(hours=2))
    prescribe(episode, prescriber, after)
    assert prescriptions_audit(now=after + timedelta(minutes=5)) == 0
    assert Prescription.objects.filter(audited_at__isnull=False).count() == 1


@pytest.mark.hazard("HAZ-03.C40")
def test_a_prescription_dated_before_its_list_entry_cannot_continue_it(
    episode, prescriber, referral_at
):
    """Issue 10 review: a prescriber put a medicine on the list and 'continued' it with a
    prescription dated a minute after the referral, before the entry existed: 0 meetings, no
    alert."""
    added = referral_at + timedelta(days=2)
    entry = current_medication_add(
        episode=episode,
        medicine="Clozapine",
        source="person",
        source_date=added.date(),
        recorded_by=prescriber,
        now=added,
    )
    with pytest.raises(ValidationError) as refused:
        prescription_create(
            episode=episode,
            medicine="",
            continuing=entry,
            is_antipsychotic=True,
            prescriber=prescriber,
            prescribed_at=referral_at + timedelta(minutes=1),
            now=added + timedelta(minutes=1),
        )
    assert "continuing" in refused.value.message_dict
    assert not Prescription.objects.exists()
    # Dated after the entry, it continues it.
    prescription_create(
        episode=episode,
        medicine="",
        continuing=entry,
        is_antipsychotic=True,
        prescriber=prescriber,
        prescribed_at=added + timedelta(minutes=1),
        now=added + timedelta(minutes=1),
    )
