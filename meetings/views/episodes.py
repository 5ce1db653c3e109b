"""Referral intake, the episode page, timeline, care plan, prescribing and closure."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from meetings import rules, selectors
from meetings.forms import CarePlanForm, CloseWithMeetingsForm, PrescriptionForm, ReferralForm
from meetings.models import Episode, Meeting
from meetings.services import care_plans, episodes, prescriptions
from meetings.views.common import episode_view, open_episode_only
from networks.rules import nhs_number_refusal, normalise_nhs_number
from networks.selectors import service_users_for
from pod.foundation import paging
from pod.foundation.access import clinical_required, request_user, teams_for
from pod.foundation.audit import note_shown
from pod.foundation.form_errors import add_service_errors
from pod.foundation.models import User
from pod.foundation.submissions import one_submission

PERSON_FIELDS = ("given_name", "family_name", "preferred_name", "date_of_birth", "phone")


@clinical_required
@require_http_methods(["GET", "POST"])
@one_submission
def episode_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    teams = teams_for(user).order_by("name")
    staff = (
        User.objects.filter(
            memberships__team__in=teams, is_active=True, role__in=("clinician", "prescriber")
        )
        .distinct()
        .order_by("last_name", "first_name")
    )
    now = timezone.now()
    initial = {
        "referral_received_at": timezone.localtime(now).strftime("%Y-%m-%dT%H:%M"),
        "team": teams.first(),
        "core_team": [user.pk],
    }
    form = ReferralForm(
        request.POST or None,
        teams=teams,
        staff=staff,
        initial=initial,
        lookup_url=reverse("meetings:person_lookup"),
    )
    mismatch = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person_fields = {k: data[k] for k in PERSON_FIELDS if data.get(k)}
        try:
            episode = episodes.episode_open_from_referral(
                team=data["team"],
                nhs_number=data["nhs_number"],
                person_fields=person_fields,
                referral_received_at=data["referral_received_at"],
                referral_source=data["referral_source"],
                triage_category=data["triage_category"],
                reason=data["reason"],
                core_team=data["core_team"],
                created_by=user,
                now=now,
                same_person=data["same_person"],
            )
        except episodes.IdentityMismatch as error:
            add_service_errors(form, error)
            mismatch = _side_by_side(error, person_fields)
            form.offer_same_person()
            note_shown(request, "person", [error.person.pk], "referral:identity_check")
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            hours = rules.hours_label(selectors.clock_policy().window)
            messages.success(
                request,
                f"Referral taken for {episode.service_user}. The {hours}-hour clock has started.",
            )
            return redirect("meetings:episode_detail", pk=episode.pk)
    return render(request, "meetings/episode_new.html", {"form": form, "mismatch": mismatch})


def _side_by_side(error: episodes.IdentityMismatch, entered: dict) -> list[dict]:
    """The rows of the identity comparison: what is on record against what was entered."""
    person = error.person
    rows = [
        ("Given name", person.given_name, entered.get("given_name"), "given_name"),
        ("Family name", person.family_name, entered.get("family_name"), "family_name"),
        ("Date of birth", person.date_of_birth, entered.get("date_of_birth"), "date_of_birth"),
        ("Team", person.team, None, None),
    ]
    return [
        {
            "label": label,
            "recorded": recorded,
            "entered": given,
            "differs": field in error.differences,
        }
        for label, recorded, given, field in rows
    ]


@clinical_required
@require_POST
def person_lookup(request: HttpRequest) -> HttpResponse:
    """htmx partial for the referral form: is this NHS number someone the user's teams know?

    POST, so the NHS number never sits in a query string (proxy and server logs). A person of
    another team is not revealed here (the referral itself says so when saved).
    """
    digits = normalise_nhs_number(request.POST.get("nhs_number", ""))
    person = None
    open_episode = None
    refusal = nhs_number_refusal(digits)
    if refusal is None:
        person = (
            service_users_for(request_user(request))
            .filter(nhs_number=digits)
            .select_related("team")
            .first()
        )
        if person is not None:
            note_shown(request, "person", [person.pk], "lookup:nhs_number")
            open_episode = (
                Episode.objects.filter(service_user=person)
                .exclude(status=Episode.Status.CLOSED)
                .first()
            )
    return render(
        request,
        "meetings/_person_lookup.html",
        {
            "digits": digits,
            "valid": refusal is None,
            "refusal": refusal,
            "person": person,
            "open_episode": open_episode,
        },
    )


@episode_view
def episode_detail(request: HttpRequest, episode) -> HttpResponse:
    now = timezone.now()
    meetings = selectors.episode_meetings(episode)
    # Network meetings that count towards the medication rule (meetings.medication_rules).
    held = sum(1 for m in meetings if m.counts_as_network_meeting)
    clock = None
    if episode.first_meeting_held_at is None and not episode.is_closed:
        level, words = rules.clock_time_left(
            first_meeting_due_at=episode.first_meeting_due_at,
            policy=selectors.clock_policy(),
            now=now,
        )
        # Never "On track" beside the alert that no meeting is arranged.
        arranged = any(m.status == Meeting.Status.SCHEDULED for m in meetings)
        clock = {"level": level, "words": words, "arranged": arranged}
    summary = selectors.episode_summary(episode)
    # The table one page at a time (its bytes had grown with the episode).
    in_order = selectors.meetings_attention_first(meetings, now=now)
    return render(
        request,
        "meetings/episode_detail.html",
        {
            "episode": episode,
            "core_team": summary.core_team,
            "meetings": paging.bounded(request, in_order, param="meetings"),
            "held": held,
            "required": settings.POD_MEETINGS_BEFORE_MEDICATION,
            "clock": clock,
            "member_count": summary.active_member_count,
            "prescriptions": summary.prescriptions,
            "care_plan": summary.care_plan,
        },
    )


@episode_view
def episode_timeline(request: HttpRequest, episode) -> HttpResponse:
    # In order, one page of events at a time (its bytes had grown with the episode).
    events = paging.bounded(
        request, selectors.episode_timeline(episode), param="events", size=paging.LIST_SIZE
    )
    return render(request, "meetings/timeline.html", {"episode": episode, "events": events})


@episode_view
@require_http_methods(["GET", "POST"])
@one_submission
def care_plan(request: HttpRequest, episode) -> HttpResponse:
    held_meetings = episode.meetings.filter(status=Meeting.Status.HELD).order_by("-actual_start")
    members = selectors.network_members_for_invitation(episode)
    latest = episode.care_plans.order_by("-version").first()
    initial = {}
    if latest:
        initial = {
            "what_matters": latest.what_matters,
            "actions": latest.actions,
            "responsible": latest.responsible,
        }
    form = CarePlanForm(
        request.POST or None, meetings=held_meetings, members=members, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = care_plans.care_plan_version_create(
                episode=episode,
                meeting=data["meeting"],
                what_matters=data["what_matters"],
                actions=data["actions"],
                responsible=data["responsible"],
                person_views=data["person_views"],
                person_agreed=data["person_agreed"],
                involved_members=data["involved_members"],
                created_by=request_user(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Care plan version {plan.version} saved.")
            return redirect("meetings:care_plan", pk=episode.pk)
    return render(
        request,
        "meetings/care_plan.html",
        {
            "episode": episode,
            "form": form,
            "has_held": held_meetings.exists(),
            "versions": selectors.care_plan_versions(episode),
            # Who may be given a copy: active members who agreed to receive information; the
            # others, refused apart from not yet asked.
            "copy_to": [m for m in members if m.may_be_informed],
            "no_copy_to": [m for m in members if not m.may_be_informed],
        },
    )


@episode_view
@open_episode_only
@require_http_methods(["GET", "POST"])
@one_submission
def prescribe(request: HttpRequest, episode) -> HttpResponse:
    user = request_user(request)
    if not user.is_prescriber:
        raise PermissionDenied("Only a prescriber can prescribe.")
    now = timezone.now()
    required = settings.POD_MEETINGS_BEFORE_MEDICATION
    held = len(selectors.meetings_counted_before(episode, now, now=now))
    current = episode.current_medications.order_by("medicine")
    form = PrescriptionForm(
        request.POST or None,
        current=current,
        initial={"prescribed_at": timezone.localtime(now).strftime("%Y-%m-%dT%H:%M")},
    )
    refused = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            prescription = prescriptions.prescription_create(
                episode=episode,
                medicine=data["medicine"],
                dose=data["dose"],
                continuing=data["continuing"],
                is_antipsychotic=data["is_antipsychotic"],
                prescriber=user,
                prescribed_at=data["prescribed_at"],
                override_reason="rapid_response" if data["rapid_response"] else "",
                override_explanation=data["override_explanation"],
                now=now,
            )
        except ValidationError as error:
            refused = " ".join(error.messages)
            # The refusal box says why; only field errors (the override reason) go on the form.
            fields = {k: v for k, v in getattr(error, "error_dict", {}).items() if k != "__all__"}
            if fields:
                add_service_errors(form, ValidationError(fields))
        else:
            if prescription.override_reason:
                messages.warning(
                    request,
                    f"{prescription.medicine} prescribed under the rapid-response override. "
                    "The service manager will be alerted to review it.",
                )
            else:
                messages.success(request, f"{prescription.medicine} prescribed.")
            return redirect("meetings:episode_detail", pk=episode.pk)
    return render(
        request,
        "meetings/prescribe.html",
        {
            "episode": episode,
            "form": form,
            "held": held,
            "required": required,
            "allowed_now": held >= required,
            "refused": refused,
            "current": list(current),
            "min_minutes": settings.POD_MIN_COUNTED_MEETING_MINUTES,
        },
    )


@episode_view
@open_episode_only
@require_http_methods(["GET", "POST"])
@one_submission
def episode_close(request: HttpRequest, episode) -> HttpResponse:
    now = timezone.now()
    # Issue 10: the episode's scheduled meetings (to come, or past and never recorded) are
    # listed, and cancelled once confirmed.
    future = list(episodes.episode_scheduled_meetings(episode))
    form = CloseWithMeetingsForm(
        request.POST or None,
        initial={"closed_at": timezone.localtime(now).strftime("%Y-%m-%dT%H:%M")},
        future_meetings=future,
    )
    if request.method == "POST" and form.is_valid():
        try:
            episodes.episode_close(
                episode=episode,
                outcome=form.cleaned_data["closure_outcome"],
                closed_at=form.cleaned_data["closed_at"],
                now=now,
                cancel_meetings=form.confirmed_meeting_ids(),
                closed_by=request_user(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The episode is closed. Its record is now read-only.")
            if future:
                messages.success(
                    request,
                    f"{len(future)} scheduled meeting{'s' if len(future) != 1 else ''} "
                    "cancelled; those invited to one still to come will be told.",
                )
            return redirect("meetings:episode_detail", pk=episode.pk)
    return render(
        request,
        "meetings/close.html",
        {"episode": episode, "form": form, "future_meetings": future},
    )
