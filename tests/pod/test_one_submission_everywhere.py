"""One submission, one record, on every form of the product that creates or changes something.

Two parts (issue 10, point 4; the mechanism itself is tested in test_one_submission.py):

1. `test_every_form_that_changes_the_record_carries_the_token`: walks every page of the
   URLconf as every role (tests/pod/urlwalk.py, in a world where every form can be drawn),
   finds each `<form method="post">` and checks that it carries the one-time token, that the
   view it posts to is wrapped in `one_submission`, and that it has a case in CASES below.
   A new creating form without the token, without the guard or without a case fails here,
   unless it is in the short EXEMPT list with its reason. POST-only routes that no page draws
   a form for must be exempt too, so none is missed.
2. `test_two_identical_posts_at_once_make_one_record`: for each case, the form is drawn, then
   two clients (the same user, two connections) post it at the same moment from two threads.
   One record, one set of outbox messages, no 5xx; the second is sent where the first went,
   with "already saved". The first request holds its token row for a moment after inserting
   it, so the second really arrives while the first is still writing.

The Django admin is left out: it is the administrators' maintenance tool, not a product page
(its own changelist forms have no token).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models.signals import post_save
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone

from meetings.models import (
    CarePlanVersion,
    CurrentMedication,
    Decision,
    Episode,
    Meeting,
    MeetingChange,
    Prescription,
    Review,
    Utterance,
)
from meetings.services.meetings import meeting_record_held, meeting_schedule
from networks.models import DetailsCorrection, NetworkMember, PeerAssignment, PeerContact
from outcomes.models import (
    FidelityRating,
    LicensedMeasure,
    OutcomeAssessment,
    OutcomeImport,
    ScoredMeasure,
    SurveyInvitation,
    SurveyResponse,
)
from outcomes.rules import FIDELITY_ELEMENTS, SURVEY_STATEMENTS
from outcomes.services import survey_invitation_issue
from pod.foundation.audit_models import AuditEvent
from pod.foundation.models import FormSubmission
from pod.foundation.outbox_models import OutboxMessage
from pod.foundation.rights_models import SubjectAccessInclusion
from pod.foundation.submissions import ALREADY_SAVED, TOKEN_FIELD
from tests import factories as f
from tests.outcomes.import_helpers import HEADER, A, row, submit
from tests.pod.access_matrix import ROLES
from tests.pod.urlwalk import routes, url_for_world

# Forms that post without the token, each with its reason. Keep it short.
EXEMPT = {
    "login": "signs in; writes no record (django-axes must count every attempt)",
    "logout": "ends the session; a second press changes nothing",
    "password_reset": "anonymous (the token is bound to a user); a second email carries a "
    "second valid link and changes no record",
    "password_reset_confirm": "the link's one-time token dies with the password change, so a "
    "second post finds the link used",
    "security:twofactor_setup": "an authenticator code is accepted once (django-otp), and the "
    "backup codes it answers with are shown once: no redirect to replay",
    "security:twofactor_verify": "signs in with a one-time code; writes no record",
    "security:twofactor_manage": "needs the password and a one-time code; answers with secrets "
    "shown once",
    "notification_read": "natural key: UPDATE ... WHERE read_at IS NULL; a repeat changes nothing",
    "people:person_search": "a search, reads only (POSTed to keep NHS numbers out of URLs)",
    "meetings:person_lookup": "a read-only lookup, POSTed only to keep NHS numbers out of URLs",
    "outcomes:survey": "the person's own page, signed out; natural key: the one-time link is "
    "locked and used once (outcomes.services.survey_response_submit); in CASES",
    "outcomes:survey_issue": "natural key: one live link per person, the person's row locked "
    "(outcomes.services.survey_invitation_issue); the link is shown once; in CASES",
    "outcomes:import_same_person": "drawn only for an identity mismatch; guarded by "
    "one_submission (checked below), double post tested in tests/outcomes/test_import_pages.py",
    "fhir:token": "the FHIR API's OAuth token endpoint, not a form",
    "fhir:search_post": "the FHIR API's search by POST: reads only",
}
# Exempt routes that are nonetheless guarded by one_submission (checked).
EXEMPT_BUT_GUARDED = {"outcomes:import_same_person"}


# --- The world: every form drawable ------------------------------------------------------------


@pytest.fixture
def forms_world(world, team, episode, service_user, clinician, clinician2, manager, referral_at):
    users, ids = world
    invitee = f.make_member(
        service_user,
        name="Robin",
        email="robin@example.org",
        contact_consent="agreed",
        consent_recorded_at=timezone.now(),
        consent_recorded_by=clinician,
        person_wants_invited=True,
    )
    held = meeting_schedule(
        episode=episode,
        scheduled_start=referral_at + timedelta(hours=1),
        scheduled_end=referral_at + timedelta(hours=2),
        location="home",
        staff=[clinician, clinician2],
        network_members=[invitee],
        created_by=clinician,
        now=referral_at + timedelta(minutes=30),
    )
    meeting_record_held(
        meeting=held,
        actual_start=referral_at + timedelta(hours=1),
        actual_end=referral_at + timedelta(hours=2),
        attended={p.pk: True for p in held.participants.all()},
        recorded_by=clinician,
        now=referral_at + timedelta(hours=2),
    )
    # A second scheduled meeting, with an invitee who has an address, to cancel or reschedule
    # (the world's own scheduled meeting invites only a member without consent to contact).
    # Still to come, so that cancelling or moving it owes its invitees a message.
    to_change = meeting_schedule(
        episode=episode,
        scheduled_start=timezone.now() + timedelta(days=1),
        scheduled_end=timezone.now() + timedelta(days=1, hours=1),
        location="home",
        staff=[clinician, clinician2],
        network_members=[invitee],
        created_by=clinician,
        now=timezone.now(),
    )
    proposed = f.make_member(service_user, name="Proposed neighbour", status="proposed")
    other_person = f.make_service_user(team, given_name="Alex", family_name="Stone")
    _, survey_token = survey_invitation_issue(
        service_user=other_person, issued_by=clinician, now=timezone.now()
    )
    f.make_service_user(team, nhs_number=A)
    ready_job = submit(HEADER + row(A), team, user=manager)
    assert ready_job.status == OutcomeImport.Status.READY
    new_peer = f.make_user("peer_volunteer", team, username="newpeer", first_name="Nico")
    # The daily run stops at day 14 of an episode: this one was referred an hour ago.
    fresh = f.make_episode(
        team=team,
        core_team=[clinician, clinician2],
        referral_received_at=timezone.now() - timedelta(hours=1),
    )
    variant = {
        **ids,
        "meeting": held.pk,
        "member": proposed.pk,
        "import_job": ready_job.pk,
    }
    extra = {
        "invitee": invitee,
        "held": held,
        "to_change": to_change,
        "proposed": proposed,
        "survey_token": survey_token,
        "new_peer": new_peer,
        "person2": f.make_service_user(team, given_name="Kim", family_name="Lee"),
        "ready_job": ready_job.pk,
        "clinician2": clinician2,
        "fresh_episode": fresh.pk,
        "speaker": held.participants.get(kind="service_user").pk,
        "team": team,
    }
    return users, ids, variant, extra


# --- Reading forms as a browser would ----------------------------------------------------------


@dataclass
class DrawnForm:
    action: str  # the path it posts to
    inputs: list[tuple[str, str]] = field(default_factory=list)  # what a browser would send
    names: set[str] = field(default_factory=set)  # every field name, sent or not


class _Forms(HTMLParser):
    """The POST forms of a page, each with the name/value pairs a browser would submit as
    drawn (checked boxes, selected or first options, text as filled in)."""

    def __init__(self, page_path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[DrawnForm] = []
        self._form: DrawnForm | None = None
        self._select: dict[str, Any] | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: (v or "") for k, v in attrs_list}
        if tag == "form":
            if attrs.get("method", "get").lower() == "post":
                self._form = DrawnForm(urlsplit(attrs.get("action") or self.page_path).path)
            return
        form = self._form
        if form is None:
            return
        name = attrs.get("name", "")
        if tag == "input" and name:
            form.names.add(name)
            kind = attrs.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            form.inputs.append((name, attrs.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            form.names.add(name)
            self._select = {"name": name, "multiple": "multiple" in attrs, "first": None, "n": 0}
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            if self._select["first"] is None:
                self._select["first"] = value
            if "selected" in attrs:
                form.inputs.append((self._select["name"], value))
                self._select["n"] += 1
        elif tag == "textarea" and name:
            form.names.add(name)
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            if not self._select["n"] and not self._select["multiple"]:
                self._form.inputs.append((self._select["name"], self._select["first"] or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.inputs.append((self._textarea, self._text.lstrip("\n")))
            self._textarea = None


def post_forms(html: str, page_path: str) -> list[DrawnForm]:
    parser = _Forms(page_path)
    parser.feed(html)
    return parser.forms


def _token_of(form: DrawnForm) -> str | None:
    values = [v for n, v in form.inputs if n == TOKEN_FIELD]
    if len(values) != 1:
        return None
    try:
        return str(uuid.UUID(values[0]))
    except ValueError:
        return None


# --- The cases: every form that changes the record ---------------------------------------------


@dataclass(frozen=True)
class Case:
    route: str  # the route name the form posts to
    who: str  # who submits it (a key of the world's users, or "anonymous")
    page: str  # where the form is drawn ({p}, {e}, ... from _fill)
    data: Callable[[dict], dict]  # what the person fills in (over the form as drawn)
    records: Callable[[], int]  # the records the submission writes, counted
    written: int = 1  # by how many one submission changes that count
    natural_key: bool = False  # guarded by a natural key, not the token (see EXEMPT)
    action: str = ""  # the path posted to, when not the page itself
    files: Callable[[], dict] | None = None
    messages: str = ""  # the outbox kind one submission owes (at least one row), if any


def _now_local(delta: timedelta = timedelta()) -> str:
    return timezone.localtime(timezone.now() + delta).strftime("%Y-%m-%dT%H:%M")


def _today(delta_days: int = 0) -> str:
    return (timezone.localdate() + timedelta(days=delta_days)).isoformat()


def _held(status: str) -> Callable[[], int]:
    return lambda: Meeting.objects.filter(status=status).count()


CASES = [
    Case(
        "meetings:episode_new",
        "clinician",
        "/episodes/new/",
        lambda w: {
            "nhs_number": f.valid_nhs_number(4242),
            "given_name": "Ari",
            "family_name": "Brook",
            "date_of_birth": "1990-05-01",
            "referral_source": "gp",
            "triage_category": "C",
            "reason": "Sleeping badly, hearing voices.",
            "referral_received_at": _now_local(-timedelta(hours=1)),
            "core_team": [w["clinician"].pk, w["clinician2"].pk],
        },
        lambda: Episode.objects.count(),
    ),
    Case(
        "meetings:meeting_new",
        "clinician",
        "/episodes/{e}/meetings/new/",
        lambda w: {
            "scheduled_start": _now_local(timedelta(days=1)),
            "duration_minutes": "60",
            "location": "home",
            "staff": [w["clinician"].pk, w["clinician2"].pk],
            "network_members": [w["invitee"].pk],
        },
        lambda: Meeting.objects.count(),
    ),
    Case(
        "meetings:meeting_daily_run",
        "clinician",
        "/episodes/{fresh}/meetings/daily/",
        lambda w: {
            "scheduled_start": _now_local(timedelta(days=1)),
            "days": "2",
            "duration_minutes": "60",
            "location": "home",
            "staff": [w["clinician"].pk, w["clinician2"].pk],
        },
        lambda: Meeting.objects.count(),
        written=2,
    ),
    Case(
        "meetings:meeting_took_place",
        "clinician",
        "/episodes/{e}/meetings/took-place/",
        lambda w: {
            "actual_start": _now_local(-timedelta(hours=3)),
            "actual_end": _now_local(-timedelta(hours=2)),
            "location": "home",
            "person_attended": "on",
            "staff": [w["clinician"].pk, w["clinician2"].pk],
        },
        _held("held"),
    ),
    Case(
        "meetings:meeting_record_held",
        "clinician",
        "/episodes/{e}/meetings/{m}/held/",
        lambda w: {},  # as drawn: the scheduled times
        _held("held"),
    ),
    Case(
        "meetings:utterance_add",
        "clinician",
        "/episodes/{e}/meetings/{held}/",
        lambda w: {
            "participant": w["speaker"],
            "kind": "voice",
            "words": "I want my sister here next time.",
        },
        lambda: Utterance.objects.count(),
        action="/episodes/{e}/meetings/{held}/utterances/",
    ),
    Case(
        "meetings:decision_add",
        "clinician",
        "/episodes/{e}/meetings/{held}/",
        lambda w: {"kind": "care", "text": "Meet again on Friday.", "person_agreed": "yes"},
        lambda: Decision.objects.count(),
        action="/episodes/{e}/meetings/{held}/decisions/",
    ),
    Case(
        "meetings:meeting_cancel",
        "clinician",
        "/episodes/{e}/meetings/{change}/cancel/",
        lambda w: {"called_off_by": "person", "reason": "Robin's mother is unwell today."},
        _held("cancelled"),
        messages="meeting_cancellation",
    ),
    Case(
        "meetings:meeting_reschedule",
        "clinician",
        "/episodes/{e}/meetings/{change}/reschedule/",
        lambda w: {
            "scheduled_start": _now_local(timedelta(days=2)),
            "reason": "Robin can only come on Thursday.",
        },
        lambda: MeetingChange.objects.filter(kind=MeetingChange.Kind.RESCHEDULED).count(),
        messages="meeting_update",
    ),
    Case(
        "meetings:meeting_correct",
        "clinician",
        "/episodes/{e}/meetings/{held}/correct/",
        lambda w: {"location_detail": "In the garden", "reason": "We met outside, not indoors."},
        lambda: MeetingChange.objects.filter(kind=MeetingChange.Kind.CORRECTED).count(),
    ),
    Case(
        "meetings:current_medication",
        "clinician",
        "/episodes/{e}/medication/",
        lambda w: {
            "medicine": "Sertraline",
            "dose": "50 mg in the morning",
            "source": "gp_record",
            "source_detail": "GP summary of 1 March",
        },
        lambda: CurrentMedication.objects.count(),
    ),
    Case(
        "meetings:review_detail",
        "manager",
        "/episodes/reviews/{review}/",
        lambda w: {
            "decision": "action_taken",
            "note": "Spoke to the team; a meeting is arranged for tomorrow.",
        },
        lambda: Review.objects.exclude(decision=Review.Decision.OPEN).count(),
    ),
    Case(
        "meetings:care_plan",
        "clinician",
        "/episodes/{e}/care-plan/",
        lambda w: {
            "what_matters": "Sleep, and my sister.",
            "actions": "Daily meetings this week.",
            "responsible": "Chris",
            "person_agreed": "yes",
        },
        lambda: CarePlanVersion.objects.count(),
    ),
    Case(
        "meetings:prescribe",
        "prescriber",
        "/episodes/{e}/prescribe/",
        lambda w: {
            "medicine": "Promethazine",
            "dose": "25 mg at night",
            "is_new": "on",
            "rapid_response": "on",
            "override_explanation": "Not slept for four nights; at risk of harm from exhaustion.",
        },
        lambda: Prescription.objects.count(),
    ),
    Case(
        "meetings:episode_close",
        "clinician",
        "/episodes/{e}/close/",
        # The world's meetings still scheduled are listed; closing cancels them once confirmed.
        lambda w: {"closure_outcome": "Recovered; discharged to the GP.", "cancel_meetings": "on"},
        lambda: Episode.objects.filter(status=Episode.Status.CLOSED).count(),
    ),
    Case(
        "networks:member_add",
        "clinician",
        "/network/people/{p}/members/add/",
        lambda w: {
            "name": "Morgan",
            "category": "friend",
            "relationship": "friend from work",
            "contact_consent": "refused",
            "information_consent": "not_asked",
        },
        lambda: NetworkMember.objects.count(),
    ),
    Case(
        "networks:member_edit",
        "clinician",
        "/network/people/{p}/members/{member}/edit/",
        lambda w: {"name": "Sky Blue"},
        lambda: NetworkMember.objects.filter(name="Sky Blue").count(),
    ),
    Case(
        "networks:member_end",
        "clinician",
        "/network/people/{p}/members/{member}/end/",
        lambda w: {},
        lambda: NetworkMember.objects.filter(status=NetworkMember.Status.ENDED).count(),
    ),
    Case(
        "networks:peer_contact_add",
        "peer_worker",
        "/network/peer/people/{p}/contacts/add/",
        lambda w: {
            "who": ["person"],
            "mode": "phone",
            "duration_minutes": "15",
            "purpose": "support",
            "contact_at": _now_local(-timedelta(hours=1)),
        },
        lambda: PeerContact.objects.count(),
    ),
    Case(
        "networks:peer_contact_edit",
        "peer_worker",
        "/network/peer/people/{p}/contacts/{contact}/edit/",
        lambda w: {"who": ["person"], "note": "Talked about the weekend."},
        lambda: PeerContact.objects.filter(note="Talked about the weekend.").count(),
    ),
    Case(
        "networks:member_propose",
        "peer_worker",
        "/network/peer/people/{p}/members/propose/",
        lambda w: {"name": "Jo", "relationship": "neighbour at no. 4", "category": "neighbour"},
        lambda: NetworkMember.objects.filter(status=NetworkMember.Status.PROPOSED).count(),
    ),
    Case(
        "networks:member_consent",
        "clinician",
        "/network/people/{p}/members/{proposed}/consent/",
        lambda w: {
            "person_consents": "on",
            "member_consents_to_contact": "agreed",
            "member_consents_to_information": "not_asked",
        },
        lambda: NetworkMember.objects.filter(name="Proposed neighbour", status="active").count(),
    ),
    Case(
        "networks:peer_assignments",
        "clinician",
        "/network/people/{p}/peers/",
        lambda w: {"peer": w["new_peer"].pk},
        lambda: PeerAssignment.objects.filter(ended_at__isnull=True).count(),
    ),
    Case(
        "networks:peer_unassign",
        "clinician",
        "/network/people/{p}/peers/",
        lambda w: {},
        lambda: PeerAssignment.objects.filter(ended_at__isnull=False).count(),
        action="/network/people/{p}/peers/{assignment}/end/",
    ),
    Case(
        "outcomes:scored_measure_new",
        "clinician",
        "/outcomes/people/{p}/measures/PHQ9/new/",
        lambda w: {"completed_on": _today(), **{f"item_{i}": "1" for i in range(1, 10)}},
        lambda: ScoredMeasure.objects.count(),
    ),
    Case(
        "outcomes:licensed_measure_new",
        "clinician",
        "/outcomes/people/{p}/measures/licensed/new/",
        lambda w: {"name": "WEMWBS", "completed_on": _today(), "score": "42"},
        lambda: LicensedMeasure.objects.count(),
    ),
    Case(
        "outcomes:assessment_new",
        "clinician",
        "/outcomes/people/{p}/assessments/new/",
        lambda w: {
            "timepoint_months": "0",
            "assessed_on": _today(),
            "symptom_level": "moderate",
            "hospital_bed_days": "0",
        },
        lambda: OutcomeAssessment.objects.count(),
    ),
    Case(
        "outcomes:meeting_fidelity",
        "clinician",
        "/outcomes/meetings/{held}/fidelity/",
        lambda w: {name: "2" for name, _ in FIDELITY_ELEMENTS},
        lambda: FidelityRating.objects.count(),
    ),
    Case(
        "outcomes:survey_issue",
        "clinician",
        "/outcomes/people/{p2}/survey/",
        lambda w: {},
        lambda: SurveyInvitation.objects.count(),
        natural_key=True,
    ),
    Case(
        "outcomes:survey",
        "anonymous",
        "/outcomes/survey/{token}/",
        lambda w: {name: "definitely" for name, _, _ in SURVEY_STATEMENTS},
        lambda: SurveyResponse.objects.count(),
        natural_key=True,
    ),
    Case(
        "outcomes:import",
        "manager",
        "/outcomes/import/",
        lambda w: {"team": w["team"].pk, "mode": "add", "date_format": "iso"},
        lambda: OutcomeImport.objects.count(),
        files=lambda: {"file": SimpleUploadedFile("more.csv", (HEADER + row(A, 24)).encode())},
    ),
    Case(
        "outcomes:import_run",
        "manager",
        "/outcomes/import/{import_job}/",
        lambda w: {},
        lambda: OutcomeAssessment.objects.count(),
        action="/outcomes/import/{import_job}/run/",
    ),
    Case(
        "people:person_correct",
        "clinician",
        "/people/{p}/correct/",
        lambda w: {"preferred_name": "Jo", "reason": "The person asked to be called Jo."},
        lambda: DetailsCorrection.objects.count(),
    ),
    Case(
        "security:subject_access_include",
        "clinician",
        "/security/people/{p}/subject-access/",
        lambda w: {"reason": "Sky agreed that the person may see this."},
        lambda: SubjectAccessInclusion.objects.count(),
        action="/security/people/{p}/subject-access/include/",
    ),
]
CASE_ROUTES = {case.route for case in CASES}


def _fill(template: str, ids: dict, extra: dict) -> str:
    return template.format(
        p=ids["person"],
        p2=extra["person2"].pk,
        e=ids["episode"],
        fresh=extra["fresh_episode"],
        m=ids["meeting"],
        held=extra["held"].pk,
        change=extra["to_change"].pk,
        review=ids["review"],
        member=ids["member"],
        proposed=extra["proposed"].pk,
        contact=ids["contact"],
        assignment=ids["assignment"],
        import_job=extra["ready_job"],
        token=extra["survey_token"],
    )


# --- 1. Every form is found, and carries the token ---------------------------------------------


def _view_of(path: str):
    try:
        return resolve(path)
    except Resolver404:
        return None


@pytest.mark.hazard("HAZ-09.C60")
@pytest.mark.django_db
def test_every_form_that_changes_the_record_carries_the_token(forms_world):
    users, ids, variant, extra = forms_world
    clients = {}
    for role in ROLES:
        clients[role] = Client()
        if users[role] is not None:
            clients[role].force_login(users[role])
    found: dict[str, set[str]] = {}  # route -> pages it was drawn on
    post_only: set[str] = set()
    problems: list[str] = []
    for route in routes():
        if route.name.startswith(("admin:", "admin/")):
            continue  # the Django admin (module docstring)
        urls = {url_for_world(route, ids), url_for_world(route, variant)}
        urls |= {u.replace("not-a-real-token", extra["survey_token"]) for u in urls}
        for url in sorted(urls):
            for role in ROLES:
                response = clients[role].get(url)
                if response.status_code == 405:
                    post_only.add(route.name)
                if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                    continue
                for form in post_forms(response.content.decode(), url):
                    match = _view_of(form.action)
                    if match is None:
                        problems.append(f"{url} as {role}: a form posts to {form.action}: no page")
                        continue
                    target = match.view_name
                    found.setdefault(target, set()).add(url)
                    if target in EXEMPT:
                        continue
                    where = f"{url} as {role}, form to {target}"
                    if _token_of(form) is None:
                        problems.append(f"{where}: no {TOKEN_FIELD} (add the mixin or the tag)")
                    if not getattr(match.func, "guards_one_submission", False):
                        problems.append(f"{where}: its view is not wrapped in one_submission")
                    if target not in CASE_ROUTES:
                        problems.append(f"{where}: no case in CASES (a concurrent double post)")
    for name in sorted(post_only - set(found) - set(EXEMPT)):
        problems.append(f"{name}: POST only, but no page of this world draws its form")
    for name in sorted(CASE_ROUTES - set(found)):
        problems.append(f"{name}: in CASES, but no page of this world draws its form")
    for name in sorted(EXEMPT_BUT_GUARDED):
        callback = next(r for r in routes() if r.name == name)
        match = _view_of(url_for_world(callback, variant))
        if match is None or not getattr(match.func, "guards_one_submission", False):
            problems.append(f"{name}: exempt from drawing, but not wrapped in one_submission")
    assert not problems, "\n".join(problems)


# --- 2. Two identical posts at once ------------------------------------------------------------


HOLD_SECONDS = 0.4


@pytest.fixture
def hold_the_first_token():
    """After a request inserts its token (uncommitted), it waits, so the other request of the
    pair reaches the token's unique index while the first is still in its transaction."""

    def linger(sender, instance, created, **kwargs):
        if created:
            time.sleep(HOLD_SECONDS)

    post_save.connect(linger, sender=FormSubmission, dispatch_uid="hold-the-first-token")
    yield
    post_save.disconnect(sender=FormSubmission, dispatch_uid="hold-the-first-token")


def _refusals(response) -> list[str]:
    """The error messages of a form drawn again (for a failing case's message)."""
    html = response.content.decode()
    found = re.findall(r'id="(error_\w+)"', html) + re.findall(
        r"(?:invalid-feedback|alert-danger|errorlist)[^>]*>(.*?)</(?:span|div|ul)", html, re.S
    )
    return [re.sub(r"<[^>]+>|\s+", " ", text).strip() for text in found]


def _client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.hazard("HAZ-09.C60")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", CASES, ids=[c.route for c in CASES])
def test_two_identical_posts_at_once_make_one_record(case, forms_world, hold_the_first_token):
    users, ids, variant, extra = forms_world
    user = users.get(case.who) if case.who != "anonymous" else None
    people = {**users, **extra}
    page = _fill(case.page, ids, extra)
    action = _fill(case.action, ids, extra) if case.action else urlsplit(page).path
    drawn = _client_for(user).get(page)
    assert drawn.status_code == 200, f"{page}: {drawn.status_code}"
    forms = [form for form in post_forms(drawn.content.decode(), page) if form.action == action]
    assert forms, f"{page} draws no form posting to {action}"
    form = forms[0]
    if not case.natural_key:
        assert _token_of(form), f"the form on {page} carries no token"
    data: dict[str, Any] = {}
    for name, value in form.inputs:
        data.setdefault(name, []).append(value)
    data.update(case.data(people))

    records_before = case.records()
    audit_before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    outbox_before = set(OutboxMessage.objects.values_list("pk", flat=True))
    mail.outbox.clear()
    clients = [_client_for(user), _client_for(user)]
    responses: list[Any] = [None, None]
    barrier = threading.Barrier(2)
    crashed: list[str] = []

    def post(i: int) -> None:
        try:
            body = dict(data)
            if case.files:
                body.update(case.files())
            barrier.wait()
            responses[i] = clients[i].post(action, body)
        except Exception as error:  # the test client raises what would have been a 500
            crashed.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not crashed, f"{case.route}: a 500: {crashed}"
    statuses = sorted(r.status_code for r in responses)
    assert all(status < 500 for status in statuses), statuses
    refused = [_refusals(r) for r in responses if r.status_code == 200 and not case.natural_key]
    assert not refused, f"{case.route}: the form was refused: {refused}"
    written = case.records() - records_before
    assert written == case.written, f"{case.route}: two posts wrote {written}, not {case.written}"
    # What the requests themselves wrote came from one transaction: the second wrote nothing.
    # (Work a request leaves to a task after commit - alerts, notifications - is the task's.)
    writers = set(
        AuditEvent.objects.filter(pk__gt=audit_before, context__has_key="url")
        .exclude(context__has_key="task")
        .values_list("txid", flat=True)
    )
    assert len(writers) <= 1, f"{case.route}: the pair wrote in {len(writers)} transactions"
    # One set of messages: nobody is sent the same message twice (outbox rows, and the emails
    # sent straight away, such as the meeting invitations).
    sent = [
        (kind, to)
        for kind, to in OutboxMessage.objects.exclude(pk__in=outbox_before).values_list(
            "kind", "to_address"
        )
    ] + [(message.subject, ",".join(message.to)) for message in mail.outbox]
    assert len(sent) == len(set(sent)), f"{case.route}: messages sent twice: {sorted(sent)}"
    if case.route == "meetings:meeting_new":
        assert sent, "the invitee with an address is invited"
    if case.messages:
        owed = [to for kind, to in sent if kind == case.messages]
        assert owed, f"{case.route}: no {case.messages} message owed: {sorted(sent)}"
    if case.natural_key:
        assert statuses[0] < 400 or statuses == [200, 410], statuses
        return
    # The second is sent where the first went, and told the form was already saved.
    assert statuses == [302, 302], statuses
    assert responses[0]["Location"] == responses[1]["Location"]
    told = [
        ALREADY_SAVED in client.get(response["Location"]).content.decode()
        for client, response in zip(clients, responses, strict=True)
    ]
    assert sorted(told) == [False, True], f"{case.route}: 'already saved' shown {told}"
