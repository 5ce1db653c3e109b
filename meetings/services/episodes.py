"""Referral intake, opening and closing an episode, and the row lock every write takes first."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from meetings import rules
from meetings.models import CalledOffBy, Decision, Episode, Meeting, Utterance
from meetings.services.clock import episode_refresh_clock
from meetings.services.meeting_changes import meeting_cancel_locked
from networks.models import ServiceUser
from networks.rules import identity_differences, normalise_nhs_number
from networks.services import identity_confirmation_record
from pod.foundation.localtime import LONDON
from pod.foundation.models import Team, User
from pod.foundation.plausibility import birth_date_error, event_error

SAME_PERSON_NEEDED = (
    "This NHS number is on record under another name or date of birth. Compare the two below: "
    'if they are the same person, tick "Same person"; if not, check the number.'
)


# The reason recorded on each meeting cancelled because its episode was closed.
EPISODE_CLOSED_REASON = "The episode was closed"


class IdentityMismatch(ValidationError):
    """A referral's NHS number is on record (in the user's team) under another name or date of
    birth, and no one has said they are the same person. Carries the person on record and the
    fields that differ, for the side-by-side comparison."""

    def __init__(self, person: ServiceUser, differences: list[str]) -> None:
        super().__init__({"nhs_number": SAME_PERSON_NEEDED})
        self.person = person
        self.differences = differences


def episode_lock_for_change(episode: Episode) -> Episode:
    """The episode's row, locked (SELECT ... FOR UPDATE) until the transaction ends, so writes to
    one episode are decided one after the other; ValidationError when the episode is closed (its
    record is read-only). Call it first, inside the writing transaction."""
    locked = Episode.objects.select_for_update().get(pk=episode.pk)
    if locked.is_closed:
        raise ValidationError("This episode is closed; its record can no longer be changed.")
    return locked


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
    """Open an episode for a referral and start the 24-hour clock.

    The core team is two or three named staff of `team`. ValidationError (by field) for a
    referral received at an implausible time (pod.foundation.plausibility.event_error: before
    1900, before the person's date of birth, or in the future, more than 5 minutes after `now`)
    or a core team of the wrong size or from outside the team; nothing is saved then.
    """
    core = list(core_team)
    errors: dict[str, list[str]] = {}
    if refusal := event_error(
        referral_received_at,
        now=now,
        what="A referral",
        not_before=service_user.date_of_birth,
        not_before_what="the person's date of birth",
    ):
        errors["referral_received_at"] = [refusal]
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


@transaction.atomic
def service_user_find_or_create(
    *,
    team: Team,
    nhs_number: str,
    person_fields: Mapping[str, object],
    same_person: bool = False,
    confirmed_by: User | None = None,
    today: date | None = None,
    first_event: date | None = None,
) -> tuple[ServiceUser, bool]:
    """The person with this NHS number, or a new one in `team`. Never a duplicate, and never
    another person's record in silence.

    Returns (person, created). A person already known to another team is not opened here: their
    team holds their record, so the referral is refused at the NHS number with a message to
    contact that team. When the number is on record under another given name, family name or
    date of birth (networks.rules.identity_differences: case, accents and apostrophes aside),
    IdentityMismatch is raised unless `same_person` is True; then what was entered is kept in
    an IdentityConfirmation by `confirmed_by`, and the record keeps its details (a correction,
    with a reason, changes them). A new person needs given name, family name and date of birth
    (ValidationError by field otherwise), a plausible one (pod.foundation.plausibility:
    not before 1900, not after `today` (London; the current day when None) nor after
    `first_event`, e.g. the day the referral was received).
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
        differences = identity_differences(
            recorded={
                "given_name": existing.given_name,
                "family_name": existing.family_name,
                "date_of_birth": existing.date_of_birth,
            },
            entered=person_fields,
        )
        if differences:
            if not same_person or confirmed_by is None:
                raise IdentityMismatch(existing, differences)
            identity_confirmation_record(
                person=existing, entered=dict(person_fields), confirmed_by=confirmed_by
            )
        return existing, False
    required = ("given_name", "family_name", "date_of_birth")
    missing = [k for k in required if not person_fields.get(k)]
    if missing:
        raise ValidationError(
            {k: "This person is new to POD: enter this to register them." for k in missing}
        )
    born = person_fields["date_of_birth"]
    if isinstance(born, date) and (
        refusal := birth_date_error(
            born, today=today or timezone.localdate(), first_event=first_event
        )
    ):
        raise ValidationError({"date_of_birth": refusal})
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
    same_person: bool = False,
) -> Episode:
    """Take a referral: find (or register) the person and open the episode, starting the clock.

    ValidationError when the person already has an open episode, and for the errors of
    `service_user_find_or_create` (IdentityMismatch when the number is on record under other
    details and `same_person` is not given) and `episode_open`; nothing is saved then.
    """
    person, _ = service_user_find_or_create(
        team=team,
        nhs_number=nhs_number,
        person_fields=person_fields,
        same_person=same_person,
        confirmed_by=created_by,
        today=now.astimezone(LONDON).date(),
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


def episode_scheduled_meetings(episode: Episode) -> QuerySet[Meeting]:
    """The episode's meetings still scheduled: to come, in progress, or whose time has passed
    without being recorded held. Closing the episode cancels them (`episode_close`), so the
    page that closes it lists them first; a closed episode can record nothing, so none may be
    left scheduled (issue 10 review: one in progress at closing was stranded)."""
    return episode.meetings.filter(status=Meeting.Status.SCHEDULED).order_by("scheduled_start")


def _last_recorded_event(episode: Episode) -> datetime | None:
    """The latest instant recorded in the episode (None when none): the end of a held meeting,
    a prescription, a care plan version, an utterance or decision of its meetings, an entry of
    its current-medication list. Six queries, each an index-backed MAX."""
    held = episode.meetings.filter(status=Meeting.Status.HELD)
    ends = [
        held.aggregate(last=Max("actual_end"))["last"],
        episode.prescriptions.aggregate(last=Max("prescribed_at"))["last"],
        episode.care_plans.aggregate(last=Max("created_at"))["last"],
        Utterance.objects.filter(meeting__episode=episode).aggregate(last=Max("recorded_at"))[
            "last"
        ],
        Decision.objects.filter(meeting__episode=episode).aggregate(last=Max("recorded_at"))[
            "last"
        ],
        episode.current_medications.aggregate(last=Max("recorded_at"))["last"],
    ]
    known = [instant for instant in ends if instant is not None]
    return max(known) if known else None


@transaction.atomic
def episode_close(
    *,
    episode: Episode,
    outcome: str,
    closed_at: datetime,
    now: datetime,
    cancel_meetings: Collection[int] = (),
    closed_by: User | None = None,
) -> Episode:
    """Close an episode with its outcome: its record becomes read-only and its clock stops.

    Its scheduled meetings (`episode_scheduled_meetings`) are cancelled in the same transaction, by
    the team, with the reason "The episode was closed", each with its MeetingChange row and the
    messages it owes (meetings.services.meeting_changes.meeting_cancel_locked). The caller
    confirms them: `cancel_meetings` holds the ids of the meetings the clinician was shown and
    agreed to cancel; a future meeting not among them (none confirmed, or one arranged since the
    page was drawn) refuses the closure, under "cancel_meetings", and nothing is saved.
    ValidationError (by field) also for an empty outcome, or a closing time before the referral
    or in the future (more than 5 minutes after `now`), a closing time before the end of a meeting
    held in the episode or before a prescription, or when the episode is already closed.
    """
    episode = episode_lock_for_change(episode)
    confirmed = set(cancel_meetings)
    unconfirmed = [m for m in episode_scheduled_meetings(episode) if m.pk not in confirmed]
    if unconfirmed:
        raise ValidationError(
            {
                "cancel_meetings": "Closing the episode cancels its scheduled meetings: confirm "
                "that these are cancelled: "
                + "; ".join(
                    f"{m.scheduled_start.astimezone(LONDON):%d %b %Y %H:%M}" for m in unconfirmed
                )
            }
        )
    errors: dict[str, str] = {}
    if not outcome.strip():
        errors["closure_outcome"] = "Record the outcome of the episode."
    if closed_at < episode.referral_received_at:
        errors["closed_at"] = "An episode cannot close before its referral."
    elif refusal := event_error(closed_at, now=now, what="An episode's closing"):
        errors["closed_at"] = refusal
    elif (last := _last_recorded_event(episode)) is not None and closed_at < last:
        errors["closed_at"] = (
            "An episode cannot close before what is recorded in it: the latest entry (a held "
            "meeting, prescription, care plan or record of a meeting) is at "
            f"{last.astimezone(LONDON):%d %b %Y %H:%M}."
        )
    if errors:
        raise ValidationError(errors)
    to_cancel = episode.meetings.filter(pk__in=confirmed, status=Meeting.Status.SCHEDULED)
    for meeting in to_cancel.order_by("scheduled_start"):
        # Each cancellation owes its "cancellation" messages inside meeting_cancel_locked.
        meeting_cancel_locked(
            episode=episode,
            meeting=meeting,
            called_off_by=CalledOffBy.TEAM,
            reason=EPISODE_CLOSED_REASON,
            changed_by=closed_by,
            now=now,
        )
    episode.status = Episode.Status.CLOSED
    episode.closed_at = closed_at
    episode.closure_outcome = outcome
    episode.clock_next_check_at = None
    episode.save(update_fields=["status", "closed_at", "closure_outcome", "clock_next_check_at"])
    return episode
