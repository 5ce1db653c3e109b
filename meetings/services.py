"""Every write to episodes, meetings and prescriptions. Views, admin and tasks call these."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Min, Q

from meetings import rules
from meetings.alerts import alert_raise
from meetings.ics import meeting_invitation_ics
from meetings.models import (
    Alert,
    CarePlanVersion,
    Decision,
    Episode,
    Meeting,
    Participant,
    Prescription,
    Utterance,
)
from meetings.selectors import staff_double_booked
from networks.models import NetworkMember, ServiceUser
from networks.rules import normalise_nhs_number
from pod.foundation.emails import email_build
from pod.foundation.localtime import LONDON
from pod.foundation.models import Team, User


def clock_policy() -> rules.ClockPolicy:
    return rules.ClockPolicy(
        window=settings.POD_FIRST_MEETING_WINDOW,
        unscheduled_after=timedelta(hours=settings.POD_UNSCHEDULED_AFTER_HOURS),
        at_risk_lead=timedelta(hours=settings.POD_AT_RISK_LEAD_HOURS),
    )


def episode_clock_facts(
    episode: Episode, *, raised: Iterable[str] | None = None
) -> rules.ClockFacts:
    """Read the facts the 24-hour rule needs for one episode from the meetings themselves."""
    agg = Meeting.objects.filter(episode=episode).aggregate(
        held=Min("actual_start", filter=Q(status=Meeting.Status.HELD)),
        scheduled=Min("scheduled_start", filter=Q(status=Meeting.Status.SCHEDULED)),
    )
    if raised is None:
        raised = Alert.objects.filter(episode=episode, prescription__isnull=True).values_list(
            "kind", flat=True
        )
    return rules.ClockFacts(
        referral_received_at=episode.referral_received_at,
        first_meeting_due_at=episode.first_meeting_due_at,
        first_meeting_held_at=agg["held"],
        earliest_scheduled_start=agg["scheduled"],
        closed=episode.is_closed,
        raised=frozenset(raised),
    )


def episode_refresh_clock(episode: Episode, *, now: datetime) -> None:
    """Recompute the clock fields from the meetings after any change that can move them."""
    facts = episode_clock_facts(episode)
    episode.first_meeting_held_at = facts.first_meeting_held_at
    episode.time_to_first_meeting = (
        facts.first_meeting_held_at - episode.referral_received_at
        if facts.first_meeting_held_at
        else None
    )
    if episode.status == Episode.Status.REFERRED and facts.first_meeting_held_at:
        episode.status = Episode.Status.ACTIVE
    episode.clock_next_check_at = rules.clock_next_check_at(
        facts=facts, policy=clock_policy(), now=now
    )
    episode.save(
        update_fields=[
            "first_meeting_held_at",
            "time_to_first_meeting",
            "status",
            "clock_next_check_at",
        ]
    )


def _lock_episode(episode: Episode) -> Episode:
    return Episode.objects.select_for_update().get(pk=episode.pk)


def _ensure_open(episode: Episode) -> None:
    if episode.is_closed:
        raise ValidationError("This episode is closed; its record can no longer be changed.")


@transaction.atomic
def episode_open(
    *,
    service_user: ServiceUser,
    team: Team,
    referral_received_at: datetime,
    referral_source: str,
    triage_category: str,
    reason: str,
    core_team: Iterable[User],
    created_by: User | None,
    now: datetime,
) -> Episode:
    """Open an episode for a referral and start the 24-hour clock."""
    core = list(core_team)
    errors: dict[str, list[str]] = {}
    if referral_received_at > now + timedelta(minutes=5):
        errors["referral_received_at"] = ["A referral cannot be received in the future."]
    if len({u.pk for u in core}) < 2:
        errors["core_team"] = ["Name at least two staff for the core team."]
    elif len({u.pk for u in core}) > 3:
        errors["core_team"] = ["Keep the core team small: two or three named staff."]
    outside = [u for u in core if not u.memberships.filter(team=team).exists()]
    if outside:
        errors.setdefault("core_team", []).append(
            "The core team must be members of the team: " + ", ".join(map(str, outside))
        )
    if errors:
        raise ValidationError(errors)
    episode = Episode(
        service_user=service_user,
        team=team,
        referral_received_at=referral_received_at,
        referral_source=referral_source,
        triage_category=triage_category,
        reason=reason,
        first_meeting_due_at=rules.first_meeting_due_at(
            referral_received_at=referral_received_at, window=settings.POD_FIRST_MEETING_WINDOW
        ),
        created_by=created_by,
    )
    episode.full_clean()
    episode.save()
    episode.core_team.set(core)
    episode_refresh_clock(episode, now=now)
    return episode


def _meeting_validate_times(
    episode: Episode, start: datetime, end: datetime, field_prefix: str
) -> None:
    errors: dict[str, str] = {}
    if end <= start:
        errors[f"{field_prefix}_end"] = "A meeting must end after it starts."
    if start < episode.referral_received_at:
        errors[f"{field_prefix}_start"] = "A meeting cannot take place before the referral."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def meeting_schedule(
    *,
    episode: Episode,
    scheduled_start: datetime,
    scheduled_end: datetime,
    location: str,
    location_detail: str = "",
    staff: Iterable[User],
    network_members: Iterable[NetworkMember] | None = None,
    created_by: User | None,
    now: datetime,
) -> Meeting:
    """Arrange a network meeting and invite people to it.

    The person is always invited. Network members are invited by default when the person wants
    them there; one the person does not want invited is recorded as not invited, with the reason.
    Passing `network_members` limits the invitations to those members.
    """
    episode = _lock_episode(episode)
    _ensure_open(episode)
    _meeting_validate_times(episode, scheduled_start, scheduled_end, "scheduled")
    meeting = Meeting(
        episode=episode,
        scheduled_start=scheduled_start,
        scheduled_end=scheduled_end,
        location=location,
        location_detail=location_detail,
        created_by=created_by,
    )
    meeting.full_clean()
    meeting.save()
    chosen = None if network_members is None else {m.pk for m in network_members}
    participants = [Participant(meeting=meeting, kind=Participant.Kind.SERVICE_USER)]
    members = NetworkMember.objects.filter(
        service_user=episode.service_user, status=NetworkMember.Status.ACTIVE
    )
    for member in members:
        if not member.person_wants_invited:
            participants.append(
                Participant(
                    meeting=meeting,
                    kind=Participant.Kind.NETWORK_MEMBER,
                    network_member=member,
                    invited=False,
                    not_invited_reason=member.not_invited_reason[:300],
                )
            )
        elif chosen is None or member.pk in chosen:
            participants.append(
                Participant(
                    meeting=meeting, kind=Participant.Kind.NETWORK_MEMBER, network_member=member
                )
            )
    participants += [
        Participant(meeting=meeting, kind=Participant.Kind.STAFF, staff=user)
        for user in {u.pk: u for u in staff}.values()
    ]
    Participant.objects.bulk_create(participants)
    episode_refresh_clock(episode, now=now)
    return meeting


@transaction.atomic
def meeting_record_held(
    *,
    meeting: Meeting,
    actual_start: datetime,
    actual_end: datetime,
    attended: Mapping[int, bool],
    recorded_by: User | None,
    now: datetime,
) -> Meeting:
    """Record that a meeting was held, when, and who attended (participant id -> attended)."""
    episode = _lock_episode(meeting.episode)
    _ensure_open(episode)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError("A cancelled meeting cannot be recorded as held.")
    _meeting_validate_times(episode, actual_start, actual_end, "actual")
    if actual_start > now + timedelta(minutes=5):
        raise ValidationError(
            {"actual_start": "A meeting cannot be recorded as held in the future."}
        )
    meeting.status = Meeting.Status.HELD
    meeting.actual_start = actual_start
    meeting.actual_end = actual_end
    meeting.full_clean()
    meeting.save()
    participants = list(meeting.participants.all())
    for participant in participants:
        participant.attended = bool(attended.get(participant.pk, False))
    Participant.objects.bulk_update(participants, ["attended"])
    meeting_attendance_refresh(meeting)
    episode_refresh_clock(episode, now=now)
    return meeting


@transaction.atomic
def meeting_attendance_refresh(meeting: Meeting) -> Meeting:
    """Store a held meeting's attendance on its row, from its participant rows and the
    episode's core team: network members and staff present, and whether a member of the core
    team was there. NULL for a meeting that is not held. The dashboards read these columns."""
    if meeting.status != Meeting.Status.HELD:
        members = staff = core = None
    else:
        counts = Participant.objects.filter(meeting=meeting, attended=True).aggregate(
            n_members=Count("id", filter=Q(kind=Participant.Kind.NETWORK_MEMBER)),
            n_staff=Count("id", filter=Q(kind=Participant.Kind.STAFF)),
            n_core=Count(
                "id",
                filter=Q(
                    kind=Participant.Kind.STAFF,
                    staff__in=Episode.core_team.through.objects.filter(
                        episode_id=meeting.episode_id
                    ).values("user_id"),
                ),
            ),
        )
        members, staff, core = counts["n_members"], counts["n_staff"], counts["n_core"] > 0
    meeting.network_members_present = members
    meeting.staff_present = staff
    meeting.core_team_present = core
    Meeting.objects.filter(pk=meeting.pk).update(
        network_members_present=members, staff_present=staff, core_team_present=core
    )
    return meeting


def meetings_held_before(episode: Episode, instant: datetime) -> int:
    """Network meetings of the episode held (started) at or before an instant."""
    return Meeting.objects.filter(
        episode=episode, status=Meeting.Status.HELD, actual_start__lte=instant
    ).count()


@transaction.atomic
def prescription_create(
    *,
    episode: Episode,
    medicine: str,
    dose: str = "",
    is_new: bool,
    is_antipsychotic: bool,
    prescriber: User,
    prescribed_at: datetime,
    override_reason: str = "",
    override_explanation: str = "",
    now: datetime,
) -> Prescription:
    """Prescribe under the 3-meetings-before-medication rule.

    The episode row is locked first, so two concurrent prescriptions on the same episode are
    decided one after the other against the same, committed count of held meetings.
    """
    episode = _lock_episode(episode)
    _ensure_open(episode)
    if not prescriber.is_prescriber:
        raise ValidationError("Only a prescriber can prescribe.")
    errors: dict[str, str] = {}
    if prescribed_at < episode.referral_received_at:
        errors["prescribed_at"] = "A prescription cannot be dated before the referral."
    elif prescribed_at > now + timedelta(minutes=5):
        errors["prescribed_at"] = "A prescription cannot be dated in the future."
    if override_reason and override_reason != Prescription.OverrideReason.RAPID_RESPONSE:
        errors["override_reason"] = "Unknown override reason."
    if errors:
        raise ValidationError(errors)
    held = meetings_held_before(episode, prescribed_at)
    decision = rules.medication_decision(
        is_new=is_new,
        meetings_held_before=held,
        meetings_required=settings.POD_MEETINGS_BEFORE_MEDICATION,
        override_reason=override_reason,
        override_explanation=override_explanation,
    )
    if not decision.allowed:
        field = "override_explanation" if decision.needs_override else "__all__"
        raise ValidationError({field: decision.message})
    overridden = decision.needs_override
    prescription = Prescription(
        episode=episode,
        medicine=medicine,
        dose=dose,
        is_new=is_new,
        is_antipsychotic=is_antipsychotic,
        prescriber=prescriber,
        prescribed_at=prescribed_at,
        meetings_held_before=held,
        override_reason=override_reason if overridden else "",
        override_explanation=override_explanation if overridden else "",
    )
    prescription.full_clean()
    prescription.save()
    if overridden:
        alert_raise(
            episode=episode,
            prescription=prescription,
            kind=Alert.Kind.MEDICATION_OVERRIDE,
            message=(
                f"Episode {episode.pk}: a new medicine was prescribed after {held} of "
                f"{decision.meetings_required} network meetings under the rapid-response "
                f"override. Reason given: {override_explanation.strip()}"
            ),
            now=now,
        )
    return prescription


@transaction.atomic
def episode_close(*, episode: Episode, outcome: str, closed_at: datetime, now: datetime) -> Episode:
    episode = _lock_episode(episode)
    _ensure_open(episode)
    errors: dict[str, str] = {}
    if not outcome.strip():
        errors["closure_outcome"] = "Record the outcome of the episode."
    if closed_at < episode.referral_received_at:
        errors["closed_at"] = "An episode cannot close before its referral."
    elif closed_at > now + timedelta(minutes=5):
        errors["closed_at"] = "An episode cannot close in the future."
    if errors:
        raise ValidationError(errors)
    episode.status = Episode.Status.CLOSED
    episode.closed_at = closed_at
    episode.closure_outcome = outcome
    episode.clock_next_check_at = None
    episode.save(update_fields=["status", "closed_at", "closure_outcome", "clock_next_check_at"])
    return episode


# --- Referral intake, invitations, scheduling, the meeting record and the care plan -----------

logger = logging.getLogger(__name__)


@transaction.atomic
def service_user_find_or_create(
    *, team: Team, nhs_number: str, person_fields: Mapping[str, object]
) -> tuple[ServiceUser, bool]:
    """The person with this NHS number, or a new one in `team`. Never a duplicate.

    A person already known to another team is not opened here: their team holds their record,
    so the referral is refused at the NHS number with a message to contact that team.
    """
    digits = normalise_nhs_number(nhs_number)
    existing = ServiceUser.objects.select_for_update().filter(nhs_number=digits).first()
    if existing is not None:
        if existing.team_id != team.pk:
            raise ValidationError(
                {
                    "nhs_number": "This person is known to another team. Contact that team: the "
                    "team that first met them keeps responsibility."
                }
            )
        return existing, False
    required = ("given_name", "family_name", "date_of_birth")
    missing = [k for k in required if not person_fields.get(k)]
    if missing:
        raise ValidationError(
            {k: "This person is new to POD: enter this to register them." for k in missing}
        )
    person = ServiceUser(team=team, nhs_number=digits, **person_fields)
    person.full_clean()
    person.save()
    return person, True


@transaction.atomic
def episode_open_from_referral(
    *,
    team: Team,
    nhs_number: str,
    person_fields: Mapping[str, object],
    referral_received_at: datetime,
    referral_source: str,
    triage_category: str,
    reason: str,
    core_team: Iterable[User],
    created_by: User,
    now: datetime,
) -> Episode:
    """Take a referral: find (or register) the person and open the episode, starting the clock."""
    person, _ = service_user_find_or_create(
        team=team, nhs_number=nhs_number, person_fields=person_fields
    )
    if Episode.objects.filter(service_user=person).exclude(status=Episode.Status.CLOSED).exists():
        raise ValidationError({"nhs_number": "This person already has an open episode."})
    return episode_open(
        service_user=person,
        team=team,
        referral_received_at=referral_received_at,
        referral_source=referral_source,
        triage_category=triage_category,
        reason=reason,
        core_team=core_team,
        created_by=created_by,
        now=now,
    )


def meeting_email_recipients(meeting: Meeting) -> list[NetworkMember]:
    """Invited network members who consented to contact and gave an email address."""
    return [
        p.network_member
        for p in meeting.participants.filter(
            kind=Participant.Kind.NETWORK_MEMBER,
            invited=True,
            network_member__consent_to_contact=True,
        )
        .exclude(network_member__email="")
        .select_related("network_member")
    ]


def meeting_invitations_send(meeting_id: int, *, now: datetime) -> int:
    """Email each consenting member with an address an invitation with a .ics attachment."""
    meeting = Meeting.objects.select_related("episode__team").get(pk=meeting_id)
    place = meeting.get_location_display()
    if meeting.location_detail:
        place = f"{place}: {meeting.location_detail}"
    ics = meeting_invitation_ics(
        meeting_id=meeting.pk,
        start=meeting.scheduled_start,
        end=meeting.scheduled_end,
        location=place,
        summary=f"Network meeting with the {meeting.episode.team.name}",
        description="You are invited to a network meeting. Reply to the team if you cannot come.",
        now=now,
    )
    sent = 0
    for member in meeting_email_recipients(meeting):
        message = email_build(
            "meeting_invitation",
            to=[member.email],
            context={"member": member, "meeting": meeting, "place": place},
            attachments=[("invitation.ics", ics, "text/calendar; method=REQUEST")],
        )
        try:
            message.send(fail_silently=False)
            sent += 1
        except Exception:  # one failed address must not stop the others
            logger.exception("invitation for meeting %s to member %s failed", meeting.pk, member.pk)
    return sent


def _invitations_enqueue_on_commit(meeting_id: int) -> None:
    """Hand the invitations to a Celery worker once the meeting is committed. robust=True: a
    broker outage is logged, never turned into an error for the clinician who saved."""
    from meetings.tasks import send_meeting_invitations

    transaction.on_commit(lambda: send_meeting_invitations.delay(meeting_id), robust=True)


def meeting_schedule_warnings(
    *,
    episode: Episode,
    staff: Iterable[User],
    start: datetime,
    end: datetime,
    exclude_meeting_id: int | None = None,
) -> list[str]:
    """Warnings for a meeting being arranged (see rules.meeting_warnings)."""
    staff = list(staff)
    busy = staff_double_booked(
        staff=staff, start=start, end=end, exclude_meeting_id=exclude_meeting_id
    )
    return rules.meeting_warnings(
        staff_ids={u.pk for u in staff},
        core_team_ids={u.pk for u in episode.core_team.all()},
        double_booked=[str(u) for u in busy],
        scheduled_start=start,
        first_meeting_due_at=episode.first_meeting_due_at,
        first_meeting_held=episode.first_meeting_held_at is not None,
    )


@transaction.atomic
def meeting_schedule_with_invitations(
    *,
    episode: Episode,
    scheduled_start: datetime,
    scheduled_end: datetime,
    location: str,
    location_detail: str = "",
    staff: Iterable[User],
    network_members: Iterable[NetworkMember] | None,
    created_by: User | None,
    now: datetime,
) -> Meeting:
    """Schedule a meeting and email its invitations once the transaction has committed."""
    meeting = meeting_schedule(
        episode=episode,
        scheduled_start=scheduled_start,
        scheduled_end=scheduled_end,
        location=location,
        location_detail=location_detail,
        staff=staff,
        network_members=network_members,
        created_by=created_by,
        now=now,
    )
    _invitations_enqueue_on_commit(meeting.pk)
    return meeting


@transaction.atomic
def meetings_schedule_daily_run(
    *,
    episode: Episode,
    first_start: datetime,
    duration: timedelta,
    days: int,
    location: str,
    location_detail: str = "",
    staff: Iterable[User],
    network_members: Iterable[NetworkMember] | None,
    created_by: User | None,
    now: datetime,
) -> list[Meeting]:
    """Schedule one meeting a day (Europe/London calendar days) within the first 14 days.

    Days that already have a scheduled or held meeting are skipped. Raises when the run would
    contain no meeting at all.
    """
    episode = _lock_episode(episode)
    _ensure_open(episode)
    if duration <= timedelta(0):
        raise ValidationError({"duration_minutes": "A meeting must last some time."})
    starts = rules.daily_run_starts(
        referral_received_at=episode.referral_received_at, first_start=first_start, days=days
    )
    taken = {
        m.scheduled_start.astimezone(LONDON).date()
        for m in episode.meetings.exclude(status=Meeting.Status.CANCELLED)
    }
    starts = [s for s in starts if s.astimezone(LONDON).date() not in taken]
    if not starts:
        raise ValidationError(
            {"first_start": "No day in the first 14 days is free from this date for a daily run."}
        )
    staff = list(staff)
    members = None if network_members is None else list(network_members)
    return [
        meeting_schedule_with_invitations(
            episode=episode,
            scheduled_start=start,
            scheduled_end=start + duration,
            location=location,
            location_detail=location_detail,
            staff=staff,
            network_members=members,
            created_by=created_by,
            now=now,
        )
        for start in starts
    ]


def _held_meeting(meeting: Meeting) -> None:
    if meeting.status != Meeting.Status.HELD:
        raise ValidationError("Record the meeting as held before writing what was said in it.")


@transaction.atomic
def utterance_add(
    *, meeting: Meeting, participant: Participant, kind: str, words: str, recorded_by: User
) -> Utterance:
    """Add one voice (or a reflection) to a meeting's dialogic record.

    The person's own words come first: while the person attended and nothing of theirs is
    recorded yet, the first entry must be theirs. Reflections are the professionals'.
    """
    episode = _lock_episode(meeting.episode)
    _ensure_open(episode)
    meeting = Meeting.objects.get(pk=meeting.pk)
    _held_meeting(meeting)
    if participant.meeting_id != meeting.pk:
        raise ValidationError({"participant": "Choose someone who was at this meeting."})
    if not participant.attended:
        raise ValidationError({"participant": "Only people who attended can be quoted."})
    if not words.strip():
        raise ValidationError({"words": "Write what they said, in their own words."})
    if kind == Utterance.Kind.REFLECTION and participant.kind != Participant.Kind.STAFF:
        raise ValidationError({"kind": "Reflections are spoken by the professionals."})
    existing = list(meeting.utterances.values_list("participant__kind", flat=True))
    person_attended = meeting.participants.filter(
        kind=Participant.Kind.SERVICE_USER, attended=True
    ).exists()
    if person_attended and not existing and participant.kind != Participant.Kind.SERVICE_USER:
        raise ValidationError(
            {"participant": "Record the person's own words first: they were at the meeting."}
        )
    utterance = Utterance(
        meeting=meeting,
        participant=participant,
        kind=kind,
        words=words.strip(),
        position=len(existing) + 1,
        recorded_by=recorded_by,
    )
    utterance.full_clean()
    utterance.save()
    return utterance


@transaction.atomic
def decision_add(
    *, meeting: Meeting, kind: str, text: str, person_agreed: bool | None, recorded_by: User
) -> Decision:
    """Record a decision made in a meeting, with the network present."""
    episode = _lock_episode(meeting.episode)
    _ensure_open(episode)
    _held_meeting(Meeting.objects.get(pk=meeting.pk))
    if not text.strip():
        raise ValidationError({"text": "Write the decision."})
    decision = Decision(
        meeting=meeting,
        kind=kind,
        text=text.strip(),
        person_agreed=person_agreed,
        recorded_by=recorded_by,
    )
    decision.full_clean()
    decision.save()
    return decision


@transaction.atomic
def care_plan_version_create(
    *,
    episode: Episode,
    meeting: Meeting,
    what_matters: str,
    actions: str,
    responsible: str,
    person_views: str,
    person_agreed: bool,
    involved_members: Iterable[NetworkMember],
    created_by: User,
) -> CarePlanVersion:
    """Write a new version of the care plan, in a held meeting of this episode."""
    episode = _lock_episode(episode)
    _ensure_open(episode)
    errors: dict[str, str] = {}
    if meeting.episode_id != episode.pk or meeting.status != Meeting.Status.HELD:
        errors["meeting"] = "Choose a held meeting of this episode: the plan is written in one."
    for name, value in (
        ("what_matters", what_matters),
        ("actions", actions),
        ("responsible", responsible),
    ):
        if not value.strip():
            errors[name] = "This cannot be empty."
    members = list(involved_members)
    if any(m.service_user_id != episode.service_user_id for m in members):
        errors["involved_members"] = "Only the person's own network can be involved."
    if errors:
        raise ValidationError(errors)
    last = episode.care_plans.aggregate(v=Max("version"))["v"] or 0
    person_attended = meeting.participants.filter(
        kind=Participant.Kind.SERVICE_USER, attended=True
    ).exists()
    plan = CarePlanVersion(
        episode=episode,
        version=last + 1,
        meeting=meeting,
        what_matters=what_matters.strip(),
        actions=actions.strip(),
        responsible=responsible.strip(),
        person_views=person_views.strip(),
        person_involved=person_attended,
        person_agreed=person_agreed,
        created_by=created_by,
    )
    plan.full_clean()
    plan.save()
    plan.involved_members.set(members)
    return plan
