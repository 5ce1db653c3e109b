"""Reads that cross relations: which episodes a user may open, the facts the two clinical rules
need, the clinician's home, the episode page and its timeline.

Every function returns a bounded number of queries whatever the number of meetings, members or
episodes (the page tests check this with 1 and 50).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.db.models import (
    Case,
    Exists,
    F,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from meetings import medication_rules, rules
from meetings.models import (
    Alert,
    CarePlanVersion,
    CurrentMedication,
    Decision,
    Episode,
    Meeting,
    MeetingChange,
    Participant,
    Prescription,
    Utterance,
)
from networks.models import NetworkMember, PeerContact
from pod.foundation import compiled_query
from pod.foundation.access import CLINICAL_ROLES, team_ids_of
from pod.foundation.localtime import LONDON
from pod.foundation.models import User
from pod.foundation.outbox_models import OutboxMessage


def episodes_for(user: User) -> QuerySet[Episode]:
    """Episodes whose clinical record a user may open (clinicians and prescribers of the team)."""
    if not user.is_authenticated or not user.is_active or user.role not in CLINICAL_ROLES:
        return Episode.objects.none()
    return Episode.objects.filter(team_id__in=team_ids_of(user))


def get_episode_for_user(user: User, pk: int, *, for_update: bool = False) -> Episode:
    """The episode `pk` with its person and team, if `user` may open it; otherwise Http404.
    `for_update` locks the row (SELECT ... FOR UPDATE) for a write that follows."""
    if for_update:
        episode = (
            episodes_for(user)
            .select_for_update()
            .filter(pk=pk)
            .select_related("service_user", "team__trust")
            .first()
        )
    else:
        # Every episode page asks: built and compiled once per process for each role
        # (pod/foundation/compiled_query.py).
        found = compiled_query.shape_instances("episode_for_user", _episode_for_user, [user, pk])
        episode = found[0] if found else None
    if episode is None:
        raise Http404("No such episode")
    return episode


def _episode_for_user(user: User, pk: int) -> QuerySet[Episode]:
    return episodes_for(user).filter(pk=pk).select_related("service_user", "team__trust")[:1]


def episode_person_ids(episode_ids: Collection[int]) -> dict[int, int]:
    """{episode id: the id of the person it is about} for the episodes that exist. One query.
    Registered with pod.foundation.record_targets (MeetingsConfig.ready) for the access log."""
    return dict(
        Episode.objects.filter(pk__in=list(episode_ids)).values_list("pk", "service_user_id")
    )


def meeting_person_ids(meeting_ids: Collection[int]) -> dict[int, int]:
    """{meeting id: the id of the person it is about} for the meetings that exist. One query."""
    return dict(
        Meeting.objects.filter(pk__in=list(meeting_ids)).values_list(
            "pk", "episode__service_user_id"
        )
    )


# --- The two clinical rules' facts ---------------------------------------------------------------


def clock_policy() -> rules.ClockPolicy:
    """The 24-hour rule as this deployment configures it (POD_FIRST_MEETING_HOURS,
    POD_UNSCHEDULED_AFTER_HOURS, POD_AT_RISK_LEAD_HOURS; README "Configuration")."""
    return rules.ClockPolicy(
        window=settings.POD_FIRST_MEETING_WINDOW,
        unscheduled_after=timedelta(hours=settings.POD_UNSCHEDULED_AFTER_HOURS),
        at_risk_lead=timedelta(hours=settings.POD_AT_RISK_LEAD_HOURS),
    )


def episode_clock_facts(
    episode: Episode, *, raised: Iterable[str] | None = None
) -> rules.ClockFacts:
    """Read the facts the 24-hour rule needs for one episode from the meetings themselves.

    `raised`: the clock alert kinds already raised, when the caller knows them; read from the
    alert rows otherwise. Two queries at most.
    """
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


def counting_policy() -> medication_rules.CountingPolicy:
    """Which held meetings count towards the medication rule, as this deployment configures it
    (POD_MIN_COUNTED_MEETING_MINUTES, POD_RECORDED_AFTER_EVENT_HOURS; README "Configuration")."""
    return medication_rules.CountingPolicy(
        minimum_length=timedelta(minutes=settings.POD_MIN_COUNTED_MEETING_MINUTES),
        late_record_after=timedelta(hours=settings.POD_RECORDED_AFTER_EVENT_HOURS),
    )


def held_meeting_facts(meeting: Meeting) -> medication_rules.HeldMeeting:
    """The facts meetings.medication_rules reads about one held meeting (its stored times,
    recording time and attendance counts)."""
    assert meeting.actual_start is not None and meeting.actual_end is not None
    return medication_rules.HeldMeeting(
        id=meeting.pk,
        actual_start=meeting.actual_start,
        actual_end=meeting.actual_end,
        recorded_at=meeting.recorded_held_at,
        staff_present=meeting.staff_present or 0,
        person_present=bool(meeting.person_present),
        network_members_present=meeting.network_members_present or 0,
        arranged_in_advance=meeting.arranged_in_advance,
    )


def episode_held_meetings(episode_ids: Collection[int]) -> dict[int, list[Meeting]]:
    """{episode id: its held meetings} for the given episodes (episodes without any held
    meeting are absent). One query."""
    held: dict[int, list[Meeting]] = {}
    for meeting in Meeting.objects.filter(
        episode_id__in=list(episode_ids), status=Meeting.Status.HELD
    ).order_by("actual_start", "pk"):
        held.setdefault(meeting.episode_id, []).append(meeting)
    return held


def meetings_counted_before(episode: Episode, instant: datetime, *, now: datetime) -> list[int]:
    """Ids of the episode's network meetings that count towards a prescription made at
    `instant` and decided at `now` (meetings.medication_rules.counted_meeting_ids), in order
    of start. One query."""
    meetings = episode_held_meetings([episode.pk]).get(episode.pk, [])
    return medication_rules.counted_meeting_ids(
        [held_meeting_facts(m) for m in meetings],
        before=instant,
        policy=counting_policy(),
        now=now,
    )


def current_medications(episode: Episode) -> list[CurrentMedication]:
    """The episode's current-medication list, by medicine. One query."""
    return list(episode.current_medications.select_related("recorded_by").order_by("medicine"))


# The person first, then their network, then staff: the order every page lists people in.
PERSON_FIRST = Case(
    When(kind="service_user", then=Value(0)),
    When(kind="network_member", then=Value(1)),
    default=Value(2),
)

PARTICIPANTS = Prefetch(
    "participants",
    queryset=Participant.objects.select_related("staff", "network_member").order_by(
        PERSON_FIRST, "pk"
    ),
)


def staff_double_booked(
    *, staff: list[User], start: datetime, end: datetime, exclude_meeting_id: int | None = None
) -> list[User]:
    """The staff among `staff` who are already in another scheduled meeting overlapping."""
    if not staff:
        return []
    overlapping = Participant.objects.filter(
        kind=Participant.Kind.STAFF,
        staff__in=staff,
        meeting__status=Meeting.Status.SCHEDULED,
        meeting__scheduled_start__lt=end,
        meeting__scheduled_end__gt=start,
    )
    if exclude_meeting_id is not None:
        overlapping = overlapping.exclude(meeting_id=exclude_meeting_id)
    busy_ids = set(overlapping.values_list("staff_id", flat=True))
    return [u for u in staff if u.pk in busy_ids]


def meeting_schedule_warnings(
    *,
    episode: Episode,
    staff: Iterable[User],
    start: datetime,
    end: datetime,
    exclude_meeting_id: int | None = None,
) -> list[str]:
    """Warnings for a meeting being arranged (see rules.meeting_warnings); an empty list when
    none. `exclude_meeting_id` leaves that meeting out of the double-booking check (itself)."""
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
        first_meeting_window=clock_policy().window,
    )


def meeting_email_recipients(meeting: Meeting) -> list[NetworkMember]:
    """Invited network members who agreed to be contacted, whom the person still wants there,
    and who gave an email address."""
    participants = (
        meeting.participants.filter(
            kind=Participant.Kind.NETWORK_MEMBER,
            invited=True,
            network_member__contact_consent=NetworkMember.Consent.AGREED,
            network_member__person_wants_invited=True,
        )
        .exclude(network_member__email="")
        .select_related("network_member")
    )
    return [p.network_member for p in participants if p.network_member is not None]


_MESSAGE_LABEL = {
    "meeting_invitation": "Invitation",
    "meeting_run_invitation": "Invitation (with the daily run's dates)",
    "meeting_update": "Change",
    "meeting_cancellation": "Cancellation",
    "meeting_uninvited": "Notice that they are no longer invited",
}


def meeting_messages_latest(
    meeting: Meeting, *, recipient_keys: Collection[str] | None = None
) -> dict[str, OutboxMessage]:
    """The latest outbox message about `meeting` owed to each recipient ("member:9" -> row): its
    invitation (alone or in a daily run), changes, cancellation. Limited to `recipient_keys` when
    given. One query."""
    rows = OutboxMessage.objects.filter(
        Q(cause__startswith=f"meeting:{meeting.pk}:v")
        | Q(kind="meeting_run_invitation", thread=f"episode:{meeting.episode_id}:meetings")
    )
    if recipient_keys is not None:
        rows = rows.filter(recipient_key__in=recipient_keys)
    latest: dict[str, OutboxMessage] = {}
    for row in rows.order_by("pk"):
        if row.kind == "meeting_run_invitation" and not _run_covers(row.cause, meeting.pk):
            continue
        latest[row.recipient_key] = row
    return latest


def meeting_message_status(meeting: Meeting) -> dict[int, str]:
    """For each invited network member of `meeting` (participant id -> words): whether the latest
    email about this meeting is waiting, has gone (with when), or failed, or why none is emailed.
    Says "emailed" only once the mail server accepted it (the outbox row is SENT); anything the
    team must do by phone says "phone them". Two queries."""
    participants = list(
        meeting.participants.filter(kind=Participant.Kind.NETWORK_MEMBER, invited=True)
        .select_related("network_member")
        .order_by("pk")
    )
    latest = meeting_messages_latest(
        meeting, recipient_keys={f"member:{p.network_member_id}" for p in participants}
    )
    status: dict[int, str] = {}
    for participant in participants:
        member = participant.network_member
        found = latest.get(f"member:{participant.network_member_id}")
        if found is None:
            if member is not None and member.contact_consent == NetworkMember.Consent.REFUSED:
                status[participant.pk] = "not emailed: refused to be contacted"
            elif member is not None and not member.may_be_contacted:
                status[participant.pk] = "not emailed: not yet asked for consent to contact"
            elif member is not None and not member.email:
                status[participant.pk] = "not emailed: no email address, phone them"
            else:
                status[participant.pk] = "no email owed"
            continue
        label = _MESSAGE_LABEL.get(found.kind, "Email")
        if found.state == OutboxMessage.State.SENT and found.sent_at is not None:
            when = found.sent_at.astimezone(LONDON).strftime("%-d %b %H:%M")
            status[participant.pk] = f"{label} emailed {when}"
        elif found.state == OutboxMessage.State.FAILED:
            status[participant.pk] = f"{label} could not be emailed: phone them"
        elif found.state == OutboxMessage.State.WITHDRAWN:
            status[participant.pk] = f"{label} withdrawn, not emailed"
        else:
            status[participant.pk] = f"{label} waiting to be emailed (not sent yet)"
    return status


def _run_covers(cause: str, meeting_id: int) -> bool:
    """Whether a daily run's cause "meeting-run:<first id>-<last id>" covers `meeting_id`. The
    run's meetings were created in one transaction under the episode's lock, so the episode's
    meetings with ids in that range are exactly the run's."""
    try:
        first, last = (int(n) for n in cause.removeprefix("meeting-run:").split("-"))
    except ValueError:
        return False
    return first <= meeting_id <= last


def clinical_staff_for_team(team_id: int) -> QuerySet[User]:
    return User.objects.filter(
        memberships__team_id=team_id,
        is_active=True,
        role__in=("clinician", "prescriber", "peer_worker", "peer_volunteer"),
    ).order_by("last_name", "first_name")


def meetings_held_count(episode: Episode) -> int:
    return episode.meetings.filter(status=Meeting.Status.HELD).count()


# --- Home ---------------------------------------------------------------------------------------


@dataclass
class OpenClock:
    episode: Episode
    level: str
    words: str
    # Whether a meeting is arranged (scheduled): the badge never says "On track" without one.
    arranged: bool = True


def home_open_clock_episodes(user: User) -> QuerySet[Episode]:
    """The user's teams' open episodes whose first meeting is not yet held, soonest due first
    (what needs attention first), with their person. Lazy: the home page reads one page of it
    (pod/foundation/paging.py); `open_clocks` turns that page into clocks."""
    return (
        episodes_for(user)
        .filter(first_meeting_held_at__isnull=True)
        .exclude(status=Episode.Status.CLOSED)
        .select_related("service_user")
        .annotate(
            arranged=Exists(
                Meeting.objects.filter(episode=OuterRef("pk"), status=Meeting.Status.SCHEDULED)
            )
        )
        .order_by("first_meeting_due_at", "pk")
    )


def open_clocks(episodes: Iterable[Episode], *, now: datetime) -> list[OpenClock]:
    """Each episode's clock (level and words, meetings.rules.clock_time_left) at `now`."""
    policy = clock_policy()
    clocks = []
    for episode in episodes:
        level, words = rules.clock_time_left(
            first_meeting_due_at=episode.first_meeting_due_at, policy=policy, now=now
        )
        # `arranged` is annotated by home_open_clock_episodes (Exists of a scheduled meeting).
        arranged = bool(getattr(episode, "arranged", True))
        clocks.append(OpenClock(episode, level, words, arranged))
    return clocks


def _count(rows: QuerySet[Any]) -> Coalesce:
    """`rows` counted as a correlated subquery (0 when none): one number per outer row without
    joining and grouping the outer query, which costs more to build and to plan."""
    return Coalesce(
        Subquery(
            rows.order_by().values(n=Func(F("pk"), function="COUNT")),
            output_field=IntegerField(),
        ),
        0,
    )


def home_meetings(user: User, *, start: datetime, end: datetime) -> QuerySet[Meeting]:
    """Scheduled meetings of the user's teams between two instants, with who is coming, in
    order of start. Lazy: the home page reads one page of it. `staff_count`: staff invited;
    `i_attend`: 1 when `user` is among them, else 0."""
    participants = Participant.objects.filter(meeting=OuterRef("pk"))
    return (
        Meeting.objects.filter(
            episode__team_id__in=team_ids_of(user),
            status=Meeting.Status.SCHEDULED,
            scheduled_start__gte=start,
            scheduled_start__lt=end,
        )
        # A closed episode's meetings are cancelled at closure; one left unrecorded stays off too.
        .exclude(episode__status=Episode.Status.CLOSED)
        .select_related("episode__service_user")
        .annotate(
            staff_count=_count(participants.filter(kind="staff")),
            i_attend=_count(participants.filter(staff=user)),
        )
        .order_by("scheduled_start", "pk")
    )


def home_caseload(user: User) -> QuerySet[Episode]:
    """Open episodes of the user's teams: the ones they are core team for first, then by family
    name. Lazy: the home page reads one page of it. `held`: meetings held; `mine`: whether
    `user` is in the core team. Both are subqueries the database evaluates only for the page's
    rows' sort keys, not a join over every meeting of the team grouped per episode."""
    return (
        episodes_for(user)
        .exclude(status=Episode.Status.CLOSED)
        .select_related("service_user")
        .annotate(
            held=_count(Meeting.objects.filter(episode=OuterRef("pk"), status="held")),
            mine=Exists(
                Episode.core_team.through.objects.filter(episode=OuterRef("pk"), user=user)
            ),
        )
        .order_by("-mine", "service_user__family_name", "pk")
    )


# --- Episode ------------------------------------------------------------------------------------


def meetings_attention_first(meetings: Sequence[Meeting], *, now: datetime) -> list[Meeting]:
    """`meetings` as the episode page lists them: the scheduled ones not yet over, soonest
    first, then every other, latest first (by actual start, else scheduled start); the primary
    key breaks ties, so paging never shows one twice. No queries."""
    upcoming = sorted(
        (m for m in meetings if m.status == Meeting.Status.SCHEDULED and m.scheduled_end >= now),
        key=lambda m: (m.scheduled_start, m.pk),
    )
    coming = {m.pk for m in upcoming}
    rest = sorted(
        (m for m in meetings if m.pk not in coming),
        key=lambda m: (m.actual_start or m.scheduled_start, m.pk),
        reverse=True,
    )
    return [*upcoming, *rest]


def episode_meetings(episode: Episode) -> list[Meeting]:
    """The episode's meetings in order of start, each with `utterance_count`, `decision_count`
    and its participants (the person first, staff and members loaded) as `participants.all()`
    gives them. Two queries, each built and compiled once per process
    (pod/foundation/compiled_query.py): the episode page's largest cost."""
    meetings = compiled_query.shape_instances(
        "episode.meetings", _episode_meetings_query, [episode.pk]
    )
    participants = compiled_query.shape_instances(
        "episode.participants", _episode_participants_query, [episode.pk]
    )
    compiled_query.attach_prefetched(
        meetings, "participants", participants, queryset=PARTICIPANTS.queryset
    )
    for meeting in meetings:  # as `episode.meetings` gives them: each knows its episode
        Meeting.episode.field.set_cached_value(meeting, episode)
    return meetings


@dataclass(frozen=True)
class EpisodeSummary:
    """What the episode page shows beside its meetings (`episode_summary`)."""

    core_team: list[User]
    active_member_count: int
    prescriptions: list[Prescription]  # newest first, each with its prescriber
    care_plan: CarePlanVersion | None  # the latest version


def episode_summary(episode: Episode) -> EpisodeSummary:
    """The episode page's core team, count of active network members, prescriptions and latest
    care plan: four queries, each built and compiled once per process
    (pod/foundation/compiled_query.py), the same rows as `episode.core_team.all()`,
    `network_members_for_invitation(episode)`, `episode.prescriptions.select_related(
    "prescriber")` and `episode.care_plans.order_by("-version").first()`."""
    shape = compiled_query.shape_instances
    core_team = shape("episode.core_team", _core_team_query, [episode.pk])
    members = shape("episode.members", _active_members_query, [episode.service_user_id])
    prescriptions = shape("episode.prescriptions", _prescriptions_query, [episode.pk])
    for prescription in prescriptions:
        Prescription.episode.field.set_cached_value(prescription, episode)
    care_plans = shape("episode.care_plan", _latest_care_plan_query, [episode.pk])
    return EpisodeSummary(
        core_team=core_team,
        active_member_count=len(members),
        prescriptions=prescriptions,
        care_plan=care_plans[0] if care_plans else None,
    )


def _core_team_query(episode_id: int) -> QuerySet[User]:
    return User.objects.filter(core_episodes=episode_id)


def _active_members_query(service_user_id: int) -> QuerySet[NetworkMember]:
    return NetworkMember.objects.filter(
        service_user_id=service_user_id, status=NetworkMember.Status.ACTIVE
    ).only("pk")


def _prescriptions_query(episode_id: int) -> QuerySet[Prescription]:
    return Prescription.objects.filter(episode_id=episode_id).select_related("prescriber")


def _latest_care_plan_query(episode_id: int) -> QuerySet[CarePlanVersion]:
    return CarePlanVersion.objects.filter(episode_id=episode_id).order_by("-version")[:1]


def _episode_meetings_query(episode_id: int) -> QuerySet[Meeting]:
    return (
        Meeting.objects.filter(episode_id=episode_id)
        # Subqueries, not a join of utterances x decisions grouped per meeting (which grows as
        # their product and costs more to plan).
        .annotate(
            utterance_count=_count(Utterance.objects.filter(meeting=OuterRef("pk"))),
            decision_count=_count(Decision.objects.filter(meeting=OuterRef("pk"))),
        )
        .order_by("scheduled_start", "pk")
    )


def _episode_participants_query(episode_id: int) -> QuerySet[Participant]:
    """Every participant of the episode's meetings, in PARTICIPANTS' order within each."""
    return (
        Participant.objects.filter(meeting__episode_id=episode_id)
        .select_related("staff", "network_member")
        .order_by("meeting_id", PERSON_FIRST, "pk")
    )


def attendees(meeting: Meeting) -> QuerySet[Participant]:
    """Who attended a meeting, the person first (the choices for the dialogic record)."""
    return (
        meeting.participants.filter(attended=True)
        .select_related("staff", "network_member")
        .order_by(PERSON_FIRST, "pk")
    )


class MeetingRecord(TypedDict):
    """A meeting's record as its page shows it."""

    participants: list[Participant]  # everyone invited or recorded, the person first
    utterances: list[Utterance]  # in the order they were recorded, speakers loaded
    decisions: list[Decision]


def meeting_record(meeting: Meeting) -> MeetingRecord:
    """Who was there, what each voice said and what was decided. Three queries."""
    participants = list(
        meeting.participants.select_related("staff", "network_member").order_by(PERSON_FIRST, "pk")
    )
    return MeetingRecord(
        participants=participants,
        utterances=list(
            meeting.utterances.select_related("participant__staff", "participant__network_member")
        ),
        decisions=list(meeting.decisions.all()),
    )


@dataclass
class MeetingHistoryEntry:
    change: MeetingChange
    # ("Before", snapshot), ("After", snapshot): MeetingChange.before/after with the place's
    # label and each instant also as an aware datetime under "<key>_local" for display.
    versions: list[tuple[str, dict[str, Any]]]


def _snapshot_for_display(snapshot: dict[str, Any]) -> dict[str, Any]:
    shown = dict(snapshot)
    for key in ("scheduled_start", "scheduled_end", "actual_start", "actual_end"):
        raw = snapshot.get(key)
        shown[f"{key}_local"] = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    places = dict(Meeting.Location.choices)
    shown["location"] = places.get(snapshot.get("location", ""), snapshot.get("location", ""))
    return shown


def meeting_history(meeting: Meeting) -> list[MeetingHistoryEntry]:
    """A meeting's changes (cancelled, rescheduled, corrected), oldest first, each with who made
    it and the meeting as it was before and after (MeetingChange.before/after). One query."""
    return [
        MeetingHistoryEntry(
            change,
            [
                ("Before", _snapshot_for_display(change.before)),
                ("After", _snapshot_for_display(change.after)),
            ],
        )
        for change in meeting.changes.select_related("changed_by").order_by("changed_at", "pk")
    ]


def came_uninvited_choices(meeting: Meeting) -> tuple[QuerySet[NetworkMember], QuerySet[User]]:
    """Who could be added to a held meeting's record as having come without an invitation:
    active network members of the person and clinical staff of the team who have no row yet."""
    listed = meeting.participants.all()
    members = NetworkMember.objects.filter(
        service_user_id=meeting.episode.service_user_id, status=NetworkMember.Status.ACTIVE
    ).exclude(pk__in=listed.filter(network_member__isnull=False).values("network_member_id"))
    staff = clinical_staff_for_team(meeting.episode.team_id).exclude(
        pk__in=listed.filter(staff__isnull=False).values("staff_id")
    )
    return members.order_by("name", "pk"), staff


def care_plan_versions(episode: Episode) -> list[CarePlanVersion]:
    """The episode's care plan versions, newest first; each with `involved`: who was involved,
    each person once (the person, then who attended its meeting, then the members ticked as
    involved who had not already been named)."""
    versions = list(
        episode.care_plans.select_related("meeting", "created_by").prefetch_related(
            "involved_members",
            Prefetch(
                "meeting__participants",
                queryset=Participant.objects.filter(attended=True)
                .select_related("staff", "network_member")
                .order_by(PERSON_FIRST, "pk"),
                to_attr="attendees",
            ),
        )
    )
    for version in versions:
        version.involved = _care_plan_involved(version)  # type: ignore[attr-defined]
    return versions


def _care_plan_involved(version: CarePlanVersion) -> list[str]:
    names = ["The person"] if version.person_involved else []
    members_named: set[int] = set()
    attendees = getattr(version.meeting, "attendees", []) if version.meeting else []
    for participant in attendees:
        if participant.kind == Participant.Kind.SERVICE_USER:
            continue
        if participant.network_member_id is not None:
            members_named.add(participant.network_member_id)
        names.append(str(participant))
    for member in version.involved_members.all():
        if member.pk not in members_named:
            members_named.add(member.pk)
            names.append(str(member))
    return names


@dataclass
class TimelineEvent:
    """One line of an episode's timeline; `detail` is what the template shows under it."""

    at: datetime
    kind: str  # referral, clock, meeting, record, decision, care_plan, prescription, ...
    title: str
    detail: (
        Episode
        | Meeting
        | list[Utterance]
        | Decision
        | Prescription
        | Alert
        | CarePlanVersion
        | PeerContact
        | None
    ) = None


def episode_timeline(episode: Episode) -> list[TimelineEvent]:
    """Everything that happened in an episode, in chronological order (a fixed number of reads)."""
    hours = rules.hours_label(clock_policy().window)
    events = [
        TimelineEvent(episode.referral_received_at, "referral", "Referral received", episode),
        TimelineEvent(
            episode.referral_received_at,
            "clock",
            f"{hours}-hour clock started; first meeting due "
            + f"{episode.first_meeting_due_at.astimezone(LONDON):%d %b %Y %H:%M}",
        ),
    ]
    if episode.first_meeting_held_at:
        in_time = episode.first_meeting_held_at <= episode.first_meeting_due_at
        events.append(
            TimelineEvent(
                episode.first_meeting_held_at,
                "clock",
                f"{hours}-hour clock stopped: first meeting held "
                + ("in time" if in_time else "after the due time"),
            )
        )
    for meeting in episode.meetings.prefetch_related(PARTICIPANTS):
        at = meeting.actual_start or meeting.scheduled_start
        events.append(
            TimelineEvent(at, "meeting", f"Meeting {meeting.get_status_display().lower()}", meeting)
        )
    utterances = Utterance.objects.filter(meeting__episode=episode).select_related(
        "meeting", "participant__staff", "participant__network_member"
    )
    by_meeting: dict[int, list[Utterance]] = {}
    for u in utterances:
        by_meeting.setdefault(u.meeting_id, []).append(u)
    for utts in by_meeting.values():
        meeting = utts[0].meeting
        events.append(
            TimelineEvent(
                meeting.actual_end or meeting.scheduled_end, "record", "Dialogic record", utts
            )
        )
    for d in Decision.objects.filter(meeting__episode=episode).select_related("meeting"):
        events.append(
            TimelineEvent(
                d.meeting.actual_end or d.recorded_at,
                "decision",
                f"Decision ({d.get_kind_display().lower()})",
                d,
            )
        )
    for p in Prescription.objects.filter(episode=episode).select_related("prescriber"):
        events.append(TimelineEvent(p.prescribed_at, "prescription", "Prescription", p))
    for a in Alert.objects.filter(episode=episode):
        events.append(TimelineEvent(a.raised_at, "alert", f"Alert: {a.get_kind_display()}", a))
    for plan in care_plan_versions(episode):
        at = (
            plan.meeting.actual_end if plan.meeting and plan.meeting.actual_end else plan.created_at
        )
        events.append(TimelineEvent(at, "care_plan", f"Care plan version {plan.version}", plan))
    end = episode.closed_at
    contacts = PeerContact.objects.filter(
        service_user_id=episode.service_user_id, contact_at__gte=episode.referral_received_at
    )
    if end:
        contacts = contacts.filter(contact_at__lte=end)
    for c in contacts.select_related("peer").prefetch_related("members"):
        events.append(TimelineEvent(c.contact_at, "peer_contact", "Peer contact", c))
    if episode.closed_at:
        events.append(TimelineEvent(episode.closed_at, "closure", "Episode closed", episode))
    order = {
        "referral": 0,
        "clock": 1,
        "meeting": 2,
        "record": 3,
        "decision": 4,
        "care_plan": 5,
        "prescription": 6,
        "alert": 7,
        "peer_contact": 8,
        "closure": 9,
    }
    events.sort(key=lambda e: (e.at, order[e.kind]))
    return events


def network_members_for_invitation(episode: Episode) -> QuerySet[NetworkMember]:
    return NetworkMember.objects.filter(
        service_user_id=episode.service_user_id, status=NetworkMember.Status.ACTIVE
    )


def day_bounds(now: datetime, offset_days: int = 0) -> tuple[datetime, datetime]:
    """The start and end of a Europe/London calendar day, as aware instants."""
    local = now.astimezone(LONDON).date() + timedelta(days=offset_days)
    start = datetime.combine(local, datetime.min.time()).replace(tzinfo=LONDON)
    end = datetime.combine(local + timedelta(days=1), datetime.min.time()).replace(tzinfo=LONDON)
    return start, end
