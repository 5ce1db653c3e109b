"""Scheduling, recording and the dialogic record of one network meeting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import dateformat, timezone
from django.views.decorators.http import require_http_methods

from meetings import rules, selectors
from meetings.forms import (
    DailyRunForm,
    DecisionForm,
    MeetingCancelForm,
    MeetingCorrectForm,
    MeetingHeldForm,
    MeetingRescheduleForm,
    MeetingScheduleForm,
    MeetingTookPlaceForm,
    UtteranceForm,
)
from meetings.ics import meeting_calendar
from meetings.models import Meeting, Participant
from meetings.services import dialogic_record, lifecycle
from meetings.services import meetings as meeting_services
from meetings.services.meeting_messages import calendar_event
from meetings.views.common import episode_view, get_meeting, open_episode_only
from pod.foundation.access import request_user
from pod.foundation.form_errors import add_service_errors
from pod.foundation.submissions import one_submission

_NOT_SCHEDULED = (
    "This meeting is no longer scheduled: a held meeting's record is changed by correcting it, "
    "and a cancelled meeting stays cancelled."
)


def _schedule_form(request, episode, form_class):
    members = selectors.network_members_for_invitation(episode)
    now = timezone.now()
    start = timezone.localtime(now + timedelta(hours=2)).replace(minute=0, second=0)
    initial = {
        "scheduled_start": start.strftime("%Y-%m-%dT%H:%M"),
        "staff": [u.pk for u in episode.core_team.all()],
        # Invited by default: every member who consented and whom the person wants there.
        "network_members": [m.pk for m in members if m.may_be_contacted and m.person_wants_invited],
    }
    return form_class(
        request.POST or None,
        staff=selectors.clinical_staff_for_team(episode.team_id),
        members=members,
        initial=initial,
    )


def _invitations_said(meeting: Meeting, *, run: bool = False) -> str:
    """What the clinician is told after scheduling: what is queued (never "sent": the outbox
    sends it after this page), and whom the team must phone because no email can reach them."""
    emailed = len(selectors.meeting_email_recipients(meeting))
    status = selectors.meeting_message_status(meeting).values()
    phone = sum(1 for words in status if "phone them" in words)
    said = (
        f"Invitations will be emailed to {emailed} network member{'s' if emailed != 1 else ''}"
        + (", one message listing the dates each" if run else "")
        + " (queued: the meeting page shows when each has gone)."
        if emailed
        else "No invitation will be emailed."
    )
    if phone:
        said += (
            f" {phone} invited member{'s have' if phone != 1 else ' has'} no email address:"
            " phone them."
        )
    return said


def _warn(request, episode, staff, start, end, exclude=None) -> None:
    for warning in selectors.meeting_schedule_warnings(
        episode=episode, staff=staff, start=start, end=end, exclude_meeting_id=exclude
    ):
        messages.warning(request, f"Warning: {warning}")


@episode_view
@open_episode_only
@require_http_methods(["GET", "POST"])
@one_submission
def meeting_new(request: HttpRequest, episode) -> HttpResponse:
    form = _schedule_form(request, episode, MeetingScheduleForm)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        start = data["scheduled_start"]
        end = start + timedelta(minutes=data["duration_minutes"])
        try:
            meeting = meeting_services.meeting_schedule_with_invitations(
                episode=episode,
                scheduled_start=start,
                scheduled_end=end,
                location=data["location"],
                location_detail=data["location_detail"],
                staff=list(data["staff"]),
                network_members=list(data["network_members"]),
                created_by=request_user(request),
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Meeting scheduled. " + _invitations_said(meeting))
            _warn(request, episode, list(data["staff"]), start, end, exclude=meeting.pk)
            return redirect("meetings:meeting_detail", pk=episode.pk, meeting_pk=meeting.pk)
    return render(
        request,
        "meetings/meeting_form.html",
        {"episode": episode, "form": form, "title": "Schedule a network meeting"},
    )


@episode_view
@open_episode_only
@require_http_methods(["GET", "POST"])
@one_submission
def meeting_took_place(request: HttpRequest, episode) -> HttpResponse:
    """Record a meeting that has already taken place and was never arranged in POD."""
    form = MeetingTookPlaceForm(
        request.POST or None,
        staff=selectors.clinical_staff_for_team(episode.team_id),
        members=selectors.network_members_for_invitation(episode),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = meeting_services.meeting_record_past(
                episode=episode,
                actual_start=data["actual_start"],
                actual_end=data["actual_end"],
                location=data["location"],
                location_detail=data["location_detail"],
                staff=list(data["staff"]),
                person_attended=data["person_attended"],
                network_members=list(data["network_members"]),
                recorded_by=request_user(request),
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The meeting is recorded as held. No one was sent anything.")
            return redirect("meetings:meeting_detail", pk=episode.pk, meeting_pk=meeting.pk)
    return render(
        request,
        "meetings/meeting_took_place.html",
        {
            "episode": episode,
            "form": form,
            "title": "Record a meeting that took place",
        },
    )


@episode_view
@open_episode_only
@require_http_methods(["GET", "POST"])
@one_submission
def meeting_daily_run(request: HttpRequest, episode) -> HttpResponse:
    form = _schedule_form(request, episode, DailyRunForm)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meetings = meeting_services.meetings_schedule_daily_run(
                episode=episode,
                first_start=data["scheduled_start"],
                duration=timedelta(minutes=data["duration_minutes"]),
                days=data["days"],
                location=data["location"],
                location_detail=data["location_detail"],
                staff=list(data["staff"]),
                network_members=list(data["network_members"]),
                created_by=request_user(request),
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
            if "first_start" in getattr(error, "error_dict", {}):
                form.add_error("scheduled_start", error.error_dict["first_start"])
        else:
            messages.success(
                request,
                f"{len(meetings)} daily meetings scheduled. "
                + _invitations_said(meetings[0], run=len(meetings) > 1),
            )
            first = meetings[0]
            _warn(
                request,
                episode,
                list(data["staff"]),
                first.scheduled_start,
                first.scheduled_end,
                exclude=first.pk,
            )
            return redirect("meetings:episode_detail", pk=episode.pk)
    return render(
        request,
        "meetings/meeting_form.html",
        {"episode": episode, "form": form, "title": "Schedule daily meetings (first 14 days)"},
    )


@episode_view
def meeting_detail(request: HttpRequest, episode, meeting_pk: int) -> HttpResponse:
    meeting = get_meeting(episode, meeting_pk)
    record = selectors.meeting_record(meeting)
    attended = [p for p in record["participants"] if p.attended]
    warnings = []
    if meeting.status == Meeting.Status.SCHEDULED:
        staff = [
            p.staff
            for p in record["participants"]
            if p.kind == Participant.Kind.STAFF and p.staff is not None
        ]
        warnings = selectors.meeting_schedule_warnings(
            episode=episode,
            staff=staff,
            start=meeting.scheduled_start,
            end=meeting.scheduled_end,
            exclude_meeting_id=meeting.pk,
        )
    ctx = {"episode": episode, "meeting": meeting, "warnings": warnings, **record}
    if meeting.status != Meeting.Status.HELD:
        ctx["message_status"] = selectors.meeting_message_status(meeting)
    if meeting.status == Meeting.Status.HELD and not episode.is_closed:
        ctx["utterance_form"] = UtteranceForm(participants=selectors.attendees(meeting))
        ctx["utterance_form"].helper.form_action = request.path + "utterances/"
        ctx["decision_form"] = DecisionForm()
        ctx["decision_form"].helper.form_action = request.path + "decisions/"
    ctx["attended"] = attended
    # A meeting held at another time than arranged is titled with the time it was held.
    ctx["held_at_other_time"] = meeting.status == Meeting.Status.HELD and (
        meeting.actual_start != meeting.scheduled_start
    )
    shown_at = meeting.actual_start if ctx["held_at_other_time"] else meeting.scheduled_start
    ctx["shown_at"] = shown_at
    ctx["title"] = f"Meeting {dateformat.format(timezone.localtime(shown_at), 'j M')}"
    ctx["history"] = selectors.meeting_history(meeting)
    return render(request, "meetings/meeting_detail.html", ctx)


@episode_view
@open_episode_only
@require_http_methods(["GET", "POST"])
@one_submission
def meeting_record_held(request: HttpRequest, episode, meeting_pk: int) -> HttpResponse:
    meeting = get_meeting(episode, meeting_pk)
    if meeting.status != Meeting.Status.SCHEDULED:
        # A held record is changed only by a correction, with a reason and its history kept.
        messages.info(request, _NOT_SCHEDULED)
        return redirect("meetings:meeting_detail", pk=episode.pk, meeting_pk=meeting.pk)
    participants = list(
        meeting.participants.select_related("staff", "network_member").order_by(
            selectors.PERSON_FIRST, "pk"
        )
    )
    initial = {}
    if meeting.status == Meeting.Status.SCHEDULED:
        initial = {
            "actual_start": timezone.localtime(meeting.scheduled_start).strftime("%Y-%m-%dT%H:%M"),
            "actual_end": timezone.localtime(meeting.scheduled_end).strftime("%Y-%m-%dT%H:%M"),
        }
    form = MeetingHeldForm(request.POST or None, participants=participants, initial=initial)
    if request.method == "POST" and form.is_valid():
        was_first = episode.first_meeting_held_at is None
        try:
            meeting_services.meeting_record_held(
                meeting=meeting,
                actual_start=form.cleaned_data["actual_start"],
                actual_end=form.cleaned_data["actual_end"],
                attended=form.attendance(),
                recorded_by=request_user(request),
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Meeting recorded as held.")
            if was_first:
                hours = rules.hours_label(selectors.clock_policy().window)
                messages.success(
                    request,
                    f"The first network meeting is held: the {hours}-hour clock has stopped.",
                )
            return redirect("meetings:meeting_detail", pk=episode.pk, meeting_pk=meeting.pk)
    return render(
        request,
        "meetings/meeting_held.html",
        {"episode": episode, "meeting": meeting, "form": form},
    )


def _record_page(request, episode, meeting, **forms):
    record = selectors.meeting_record(meeting)
    ctx = {
        "episode": episode,
        "meeting": meeting,
        "warnings": [],
        **record,
        "attended": [p for p in record["participants"] if p.attended],
        "history": selectors.meeting_history(meeting),
    }
    base = request.path.rsplit("/", 2)[0] + "/"
    utterance_form = forms.get("utterance_form") or UtteranceForm(
        participants=selectors.attendees(meeting)
    )
    decision_form = forms.get("decision_form") or DecisionForm()
    utterance_form.helper.form_action = base + "utterances/"
    decision_form.helper.form_action = base + "decisions/"
    ctx.update(utterance_form=utterance_form, decision_form=decision_form)
    return render(request, "meetings/meeting_detail.html", ctx)


@episode_view
@require_http_methods(["POST"])
@one_submission
def utterance_add(request: HttpRequest, episode, meeting_pk: int) -> HttpResponse:
    meeting = get_meeting(episode, meeting_pk)
    form = UtteranceForm(
        request.POST,
        participants=selectors.attendees(meeting),
    )
    if form.is_valid():
        try:
            dialogic_record.utterance_add(
                meeting=meeting,
                participant=form.cleaned_data["participant"],
                kind=form.cleaned_data["kind"],
                words=form.cleaned_data["words"],
                recorded_by=request_user(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Added to the record.")
            return redirect("meetings:meeting_detail", pk=episode.pk, meeting_pk=meeting.pk)
    return _record_page(request, episode, meeting, utterance_form=form)


@episode_view
@require_http_methods(["POST"])
@one_submission
def decision_add(request: HttpRequest, episode, meeting_pk: int) -> HttpResponse:
    meeting = get_meeting(episode, meeting_pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            dialogic_record.decision_add(
                meeting=meeting,
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
                person_agreed=form.agreed(),
                recorded_by=request_user(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Decision recorded.")
            return redirect("meetings:meeting_detail", pk=episode.pk, meeting_pk=meeting.pk)
    return _record_page(request, episode, meeting, decision_form=form)


@episode_view
def meeting_ics(request: HttpRequest, episode, meeting_pk: int) -> HttpResponse:
    meeting = get_meeting(episode, meeting_pk)
    # PUBLISH: the clinician's own copy, with the meeting's UID and SEQUENCE, no name (HAZ-10).
    body = meeting_calendar(calendar_event(meeting), method="PUBLISH", now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; method=PUBLISH; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    return response


# --- Cancel, reschedule, correct (issue 10) -----------------------------------------------------


def _back(episode, meeting) -> HttpResponse:
    return redirect("meetings:meeting_detail", pk=episode.pk, meeting_pk=meeting.pk)


def _change_page(
    request: HttpRequest,
    episode,
    meeting: Meeting,
    form,
    *,
    title: str,
    save: Callable[[dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """The page of one change to a meeting (cancel, reschedule, correct): on a valid POST call
    `save(cleaned_data)` (a lifecycle service); a ValidationError goes to the form's fields,
    success says `done` and returns to the meeting's page."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return _back(episode, meeting)
    return render(
        request,
        "meetings/meeting_change.html",
        {"episode": episode, "meeting": meeting, "form": form, "title": title},
    )


@episode_view
@open_episode_only
@require_http_methods(["GET", "POST"])
@one_submission
def meeting_cancel(request: HttpRequest, episode, meeting_pk: int) -> HttpResponse:
    meeting = get_meeting(episode, meeting_pk)
    if meeting.status != Meeting.Status.SCHEDULED:
        messages.info(request, _NOT_SCHEDULED)
        return _back(episode, meeting)
    return _change_page(
        request,
        episode,
        meeting,
        MeetingCancelForm(request.POST or None),
        title="Cancel the meeting",
        save=lambda data: lifecycle.meeting_cancel(
            meeting=meeting,
            called_off_by=data["called_off_by"],
            reason=data["reason"],
            changed_by=request_user(request),
            now=timezone.now(),
        ),
        done="Meeting cancelled. Those invited will be told.",
    )


@episode_view
@open_episode_only
@require_http_methods(["GET", "POST"])
@one_submission
def meeting_reschedule(request: HttpRequest, episode, meeting_pk: int) -> HttpResponse:
    meeting = get_meeting(episode, meeting_pk)
    if meeting.status != Meeting.Status.SCHEDULED:
        messages.info(request, _NOT_SCHEDULED)
        return _back(episode, meeting)
    rows = list(meeting.participants.select_related("network_member"))
    minutes = (meeting.scheduled_end - meeting.scheduled_start) // timedelta(minutes=1)
    initial = {
        "scheduled_start": meeting.scheduled_start,
        "duration_minutes": max(15, min(480, minutes)),
        "location": meeting.location,
        "location_detail": meeting.location_detail,
        "staff": [p.staff_id for p in rows if p.staff_id],
        # Invited members who may still be invited (not refused, still wanted by the person).
        "network_members": [
            p.network_member_id
            for p in rows
            if p.network_member is not None and p.invited and p.network_member.may_be_invited
        ],
    }
    form = MeetingRescheduleForm(
        request.POST or None,
        staff=selectors.clinical_staff_for_team(episode.team_id),
        members=selectors.network_members_for_invitation(episode),
        initial=initial,
    )

    def save(data: dict[str, Any]) -> None:
        start = data["scheduled_start"]
        end = start + timedelta(minutes=data["duration_minutes"])
        lifecycle.meeting_reschedule(
            meeting=meeting,
            scheduled_start=start,
            scheduled_end=end,
            location=data["location"],
            location_detail=data["location_detail"],
            staff=list(data["staff"]),
            network_members=list(data["network_members"]),
            reason=data["reason"],
            changed_by=request_user(request),
            now=timezone.now(),
        )
        _warn(request, episode, list(data["staff"]), start, end, exclude=meeting.pk)

    return _change_page(
        request,
        episode,
        meeting,
        form,
        title="Reschedule the meeting",
        save=save,
        done="Meeting changed. Those invited will be told.",
    )


@episode_view
@open_episode_only
@require_http_methods(["GET", "POST"])
@one_submission
def meeting_correct(request: HttpRequest, episode, meeting_pk: int) -> HttpResponse:
    meeting = get_meeting(episode, meeting_pk)
    if meeting.status != Meeting.Status.HELD:
        messages.info(request, "Only a held meeting's record can be corrected.")
        return _back(episode, meeting)
    participants = list(
        meeting.participants.select_related("staff", "network_member").order_by(
            selectors.PERSON_FIRST, "pk"
        )
    )
    came_members, came_staff = selectors.came_uninvited_choices(meeting)
    form = MeetingCorrectForm(
        request.POST or None,
        participants=participants,
        came_members=came_members,
        came_staff=came_staff,
        initial={
            "actual_start": meeting.actual_start,
            "actual_end": meeting.actual_end,
            "location": meeting.location,
            "location_detail": meeting.location_detail,
        },
    )
    return _change_page(
        request,
        episode,
        meeting,
        form,
        title="Correct the record",
        save=lambda data: lifecycle.meeting_correct(
            meeting=meeting,
            actual_start=data["actual_start"],
            actual_end=data["actual_end"],
            location=data["location"],
            location_detail=data["location_detail"],
            attended=form.attendance(),
            came_uninvited=[*data["came_members"], *data["came_staff"]],
            reason=data["reason"],
            changed_by=request_user(request),
            now=timezone.now(),
        ),
        done="The record is corrected; the earlier version is kept.",
    )
