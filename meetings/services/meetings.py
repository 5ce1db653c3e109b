"""Network meetings: scheduling one or a daily run, recording one held, and its attendance."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q

from meetings import rules
from meetings.models import Episode, Meeting, Participant
from meetings.services.clock import episode_refresh_clock
from meetings.services.counting import episode_counted_meetings_refresh
from meetings.services.episodes import episode_lock_for_change
from meetings.services.meeting_messages import owe_daily_run_messages, owe_meeting_messages
from networks.models import NetworkMember
from pod.foundation.localtime import LONDON
from pod.foundation.models import User
from pod.foundation.plausibility import appointment_error, duration_error, event_error

# The longest a meeting can plausibly last, scheduled or held (a held meeting counts towards
# the medication rule only under the rule's own, shorter, bound).
MEETING_LONGEST = timedelta(hours=24)


def _meeting_validate_times(
    episode: Episode,
    start: datetime,
    end: datetime,
    field_prefix: str,
    *,
    now: datetime | None = None,
    held: bool = False,
) -> None:
    """ValidationError by field (`<field_prefix>_start`, `_end`) for times that are not
    plausible (pod.foundation.plausibility): an end not after the start, a start before the
    referral, a meeting longer than MEETING_LONGEST; with `now`, an appointment more than two
    years ahead or more than 15 minutes ago, or (`held`) a start or end in the future."""
    errors: dict[str, str] = {}
    if end <= start:
        errors[f"{field_prefix}_end"] = "A meeting must end after it starts."
    elif length := duration_error(start, end, what="A meeting", maximum=MEETING_LONGEST):
        errors[f"{field_prefix}_end"] = length
    if start < episode.referral_received_at:
        errors[f"{field_prefix}_start"] = "A meeting cannot take place before the referral."
    elif now is not None and held:
        for part, instant in (("start", start), ("end", end)):
            if refusal := event_error(instant, now=now, what=f"A held meeting's {part}"):
                errors[f"{field_prefix}_{part}"] = refusal
    elif now is not None and (refusal := appointment_error(start, now=now, what="A meeting")):
        errors[f"{field_prefix}_start"] = refusal
    if errors:
        raise ValidationError(errors)


REFUSED = NetworkMember.Consent.REFUSED


def refuse_refused_contact(
    members: Iterable[NetworkMember], chosen: Collection[int] | None
) -> None:
    """ValidationError on `network_members` when a member chosen to be invited (`chosen`: their
    ids; None means "the default") refused to be contacted: they are never invited, emailed or
    told of a change, and a form that ticks them is told so rather than silently dropping
    them (issue 13)."""
    if chosen is None:
        return
    refused = [m.name for m in members if m.pk in chosen and m.contact_consent == REFUSED]
    if refused:
        raise ValidationError(
            {
                "network_members": f"{', '.join(refused)} refused to be contacted by the team: "
                "untick them. They cannot be invited unless they agree (network page)."
            }
        )


def staff_of_team_check(episode: Episode, staff: Iterable[User]) -> list[User]:
    """`staff` without repeats, in order. ValidationError on "staff" naming anyone who is not a
    member of the episode's team (issue 10 review: a service caller could list another team's
    clinician, who then counted as one of the meeting's staff). One query."""
    unique = list({u.pk: u for u in staff}.values())
    of_team = set(
        User.objects.filter(
            pk__in=[u.pk for u in unique], memberships__team_id=episode.team_id
        ).values_list("pk", flat=True)
    )
    outside = [str(u) for u in unique if u.pk not in of_team]
    if outside:
        raise ValidationError(
            {"staff": "Only staff of the episode's team can attend: " + ", ".join(outside)}
        )
    return unique


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
    Passing `network_members` limits the invitations to those members. ValidationError (by
    field) for a closed episode; a meeting that ends before it starts, starts before the
    referral, or starts more than 15 minutes before `now` (it has taken place: record it with
    `meeting_record_past`); staff not of the episode's team; a chosen member who refused to be
    contacted.
    """
    episode = episode_lock_for_change(episode)
    _meeting_validate_times(episode, scheduled_start, scheduled_end, "scheduled", now=now)
    meeting = _meeting_arrange(
        episode=episode,
        start=scheduled_start,
        end=scheduled_end,
        location=location,
        location_detail=location_detail,
        staff=staff,
        network_members=network_members,
        created_by=created_by,
    )
    episode_refresh_clock(episode, now=now)
    return meeting


def _meeting_arrange(
    *,
    episode: Episode,
    start: datetime,
    end: datetime,
    location: str,
    location_detail: str,
    staff: Iterable[User],
    network_members: Iterable[NetworkMember] | None,
    created_by: User | None,
    arranged_in_advance: bool = True,
) -> Meeting:
    """Create a scheduled meeting of `episode` (whose row the caller holds locked) with its
    participants: the person; each active network member chosen (all when None), and any the
    person does not want invited recorded as not invited with the reason; the staff, who must be
    members of the episode's team (ValidationError on "staff" otherwise: issue 10 review)."""
    scheduled_start, scheduled_end = start, end
    staff = staff_of_team_check(episode, staff)
    chosen = None if network_members is None else {m.pk for m in network_members}
    members = list(
        NetworkMember.objects.filter(
            service_user=episode.service_user, status=NetworkMember.Status.ACTIVE
        )
    )
    if arranged_in_advance:  # a meeting that took place invites no one
        refuse_refused_contact(members, chosen)
    meeting = Meeting(
        episode=episode,
        scheduled_start=scheduled_start,
        scheduled_end=scheduled_end,
        location=location,
        location_detail=location_detail,
        created_by=created_by,
        arranged_in_advance=arranged_in_advance,
    )
    meeting.full_clean()
    meeting.save()
    participants = [Participant(meeting=meeting, kind=Participant.Kind.SERVICE_USER)]
    for member in members:
        if not member.may_be_invited:
            participants.append(
                Participant(
                    meeting=meeting,
                    kind=Participant.Kind.NETWORK_MEMBER,
                    network_member=member,
                    invited=False,
                    not_invited_reason=member.not_invited_because,
                )
            )
        elif chosen is None or member.pk in chosen:
            participants.append(
                Participant(
                    meeting=meeting, kind=Participant.Kind.NETWORK_MEMBER, network_member=member
                )
            )
    participants += [
        Participant(meeting=meeting, kind=Participant.Kind.STAFF, staff=user) for user in staff
    ]
    Participant.objects.bulk_create(participants)
    return meeting


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
    """Schedule a meeting (`meeting_schedule`) and owe its invitations, in the same transaction,
    through the outbox (meetings.services.meeting_messages): they are sent after commit, at least
    once, however long the broker is down."""
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
    owe_meeting_messages(meeting, kind="invitation", now=now)
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

    Days that already have a scheduled or held meeting are skipped. Each invited member is owed
    ONE message listing the run's dates (a run of one day: the usual invitation), in the same
    transaction (meetings.services.meeting_messages). Raises ValidationError when
    the run would contain no meeting at all, for a duration that is not positive, and for a
    closed episode.
    """
    episode = episode_lock_for_change(episode)
    if duration <= timedelta(0):
        raise ValidationError({"duration_minutes": "A meeting must last some time."})
    if refusal := appointment_error(first_start, now=now, what="The first meeting"):
        raise ValidationError({"first_start": refusal})
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
    meetings = [
        meeting_schedule(
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
    if len(meetings) == 1:
        owe_meeting_messages(meetings[0], kind="invitation", now=now)
    else:
        owe_daily_run_messages(meetings, now=now)
    return meetings


@transaction.atomic
def meeting_record_past(
    *,
    episode: Episode,
    actual_start: datetime,
    actual_end: datetime,
    location: str,
    location_detail: str = "",
    staff: Iterable[User],
    person_attended: bool,
    network_members: Iterable[NetworkMember] = (),
    recorded_by: User | None,
    now: datetime,
) -> Meeting:
    """Record a network meeting that has already taken place and was never arranged in POD
    (issue 10: recording after the event is real; arranging a meeting in the past is not).

    `staff` and `network_members` are those who attended; `person_attended` whether the person
    did. The meeting is created held at once (its scheduled times are its actual times), with
    no invitation and no message owed to anyone, and recorded held at `now`: the medication rule
    judges it like any other (meetings.medication_rules), and a meeting recorded more than
    POD_RECORDED_AFTER_EVENT_HOURS after it ended is marked "recorded after the event" for the
    service manager. ValidationError (by field, `actual_start` / `actual_end`) for times that
    end before they start, start before the referral, lie in the future or last over a day;
    for no staff; for a closed episode.
    """
    episode = episode_lock_for_change(episode)
    _meeting_validate_times(episode, actual_start, actual_end, "actual", now=now, held=True)
    staff = list({u.pk: u for u in staff}.values())
    if not staff:
        raise ValidationError({"staff": "Choose the staff who were there."})
    members = list(network_members)
    meeting = _meeting_arrange(
        episode=episode,
        start=actual_start,
        end=actual_end,
        location=location,
        location_detail=location_detail,
        staff=staff,
        network_members=members,
        created_by=recorded_by,
        arranged_in_advance=False,
    )
    came = {m.pk for m in members}
    attended = {
        p.pk: (
            person_attended
            if p.kind == Participant.Kind.SERVICE_USER
            else p.network_member_id in came
            if p.kind == Participant.Kind.NETWORK_MEMBER
            else True
        )
        for p in meeting.participants.all()
    }
    return meeting_record_held(
        meeting=meeting,
        actual_start=actual_start,
        actual_end=actual_end,
        attended=attended,
        recorded_by=recorded_by,
        now=now,
    )


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
    """Record that a meeting was held, when, and who attended (participant id -> attended).

    Stops the 24-hour clock when it is the first meeting held. Stores when it was recorded
    (`now`) and judges, for the whole episode, which held meetings count towards the medication
    rule (meetings.services.counting). ValidationError for a closed episode, a cancelled
    meeting, a meeting already held (correct it instead: issue 10), times that end before they
    start or start before the referral, a start or an end in the future (more than 5 minutes
    after `now`) or a length over a day.
    """
    episode = episode_lock_for_change(meeting.episode)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError("A cancelled meeting cannot be recorded as held.")
    if meeting.status == Meeting.Status.HELD:
        # Issue 10: a held record changes only by a correction that keeps the earlier version
        # (meetings.services.lifecycle.meeting_correct).
        raise ValidationError(
            "This meeting is already recorded as held: correct its record, with a reason."
        )
    _meeting_validate_times(episode, actual_start, actual_end, "actual", now=now, held=True)
    meeting.status = Meeting.Status.HELD
    meeting.actual_start = actual_start
    meeting.actual_end = actual_end
    meeting.recorded_held_at = now
    meeting.full_clean()
    meeting.save()
    participants = list(meeting.participants.all())
    for participant in participants:
        participant.attended = bool(attended.get(participant.pk, False))
    Participant.objects.bulk_update(participants, ["attended"])
    meeting_attendance_refresh(meeting)
    episode_counted_meetings_refresh(episode, now=now)
    episode_refresh_clock(episode, now=now)
    return meeting


@transaction.atomic
def meeting_attendance_refresh(meeting: Meeting) -> Meeting:
    """Store a held meeting's attendance on its row, from its participant rows and the
    episode's core team: network members and staff present, whether the person and whether a
    member of the core team was there. NULL for a meeting that is not held. The dashboards read
    these columns. A caller that changes attendance of a held meeting then calls
    meetings.services.counting.episode_counted_meetings_refresh."""
    members: int | None
    staff: int | None
    core: bool | None
    person: bool | None
    if meeting.status != Meeting.Status.HELD:
        members = staff = core = person = None
    else:
        counts = Participant.objects.filter(meeting=meeting, attended=True).aggregate(
            n_members=Count("id", filter=Q(kind=Participant.Kind.NETWORK_MEMBER)),
            n_staff=Count("id", filter=Q(kind=Participant.Kind.STAFF)),
            n_person=Count("id", filter=Q(kind=Participant.Kind.SERVICE_USER)),
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
        person = counts["n_person"] > 0
    meeting.network_members_present = members
    meeting.staff_present = staff
    meeting.core_team_present = core
    meeting.person_present = person
    Meeting.objects.filter(pk=meeting.pk).update(
        network_members_present=members,
        staff_present=staff,
        core_team_present=core,
        person_present=person,
    )
    return meeting
