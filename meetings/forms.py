"""Forms for the clinician's episode pages. Validation of the domain lives in the services."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Field, Layout, Submit
from django import forms
from django.utils import timezone

from meetings.models import (
    CalledOffBy,
    CurrentMedication,
    Decision,
    Episode,
    Meeting,
    Participant,
    Utterance,
)
from networks.models import NetworkMember
from networks.validators import validate_nhs_number
from pod.foundation.fields import DateTimeKind, LocalDateTimeField, PlausibleDateField
from pod.foundation.forms import form_field
from pod.foundation.models import Team, User
from pod.foundation.numbers import is_ascii_digits
from pod.foundation.submissions import SubmissionTokenMixin

DT_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DT_FORMAT, **kwargs)


def dt_field(
    label: str, *, kind: DateTimeKind = "event", what: str = "This time", **kwargs
) -> LocalDateTimeField:
    """A London wall-clock time checked by pod.foundation.plausibility: `kind` "event" (has
    happened: not before 1900, not in the future), "appointment" (within two years ahead) or
    "any"; the autumn's repeated hour asks BST or GMT, the spring gap is refused."""
    return LocalDateTimeField(label=label, kind=kind, what=what, **kwargs)


class _Crispy(SubmissionTokenMixin):
    """Every form of the episode pages changes the record: each carries the one-time token."""

    submit_label = "Save"

    def _helper(self):
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", self.submit_label))


class StaffChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        role = obj.get_role_display()
        return f"{obj} ({obj.profession or role})"


class ReferralForm(_Crispy, forms.Form):
    submit_label = "Take the referral and start the clock"
    nhs_number = forms.CharField(
        label="NHS number",
        max_length=14,
        validators=[validate_nhs_number],
        help_text="If the person is already known, their record is used (never a duplicate).",
    )
    given_name = forms.CharField(label="Given name", max_length=100, required=False)
    family_name = forms.CharField(label="Family name", max_length=100, required=False)
    preferred_name = forms.CharField(label="Preferred name", max_length=100, required=False)
    date_of_birth = PlausibleDateField(
        kind="birth", what="The date of birth", label="Date of birth", required=False
    )
    phone = forms.CharField(label="Phone", max_length=30, required=False)
    team: forms.ModelChoiceField[Team] = forms.ModelChoiceField(
        queryset=None, label="Team", empty_label=None
    )
    # Both start blank (issue 13): a preselected "A - Emergency" or "Self-referral" would be
    # saved unread by anyone who skipped the field.
    referral_source = forms.ChoiceField(
        label="Source",
        choices=[("", "Choose the source")] + Episode.Source.choices,
        error_messages={"required": "Choose where the referral came from."},
    )
    triage_category = forms.ChoiceField(
        label="Triage category (UK Mental Health Triage Scale)",
        choices=[("", "Choose the triage category")] + Episode.TriageCategory.choices,
        error_messages={"required": "Choose the triage category."},
    )
    reason = forms.CharField(
        label="Reason for referral, as given", widget=forms.Textarea(attrs={"rows": 3})
    )
    referral_received_at = dt_field("Referral received at", what="The referral")
    core_team = StaffChoiceField(
        queryset=None,
        label="Core team (two or three named staff)",
        widget=forms.CheckboxSelectMultiple,
    )
    # Shown only beside the side-by-side comparison, when the number is on record under another
    # name or date of birth (meetings.services.episodes.IdentityMismatch).
    same_person = forms.BooleanField(
        label="Same person: this referral is about the person on record",
        required=False,
        help_text="What you entered is kept with the record; correct the record's details "
        "afterwards, with a reason, if they are wrong.",
    )

    def __init__(self, *args, teams, staff, lookup_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        form_field(self, "team", forms.ModelChoiceField).queryset = teams
        form_field(self, "core_team", StaffChoiceField).queryset = staff
        self._helper()
        # same_person is drawn by the template beside the comparison, never in the layout.
        self.helper.layout = Layout(*[name for name in self.fields if name != "same_person"])
        if lookup_url:
            # htmx: say at once whether the NHS number is a person the team already knows.
            self.fields["nhs_number"].widget.attrs.update(
                {
                    # POST (htmx sends the form, CSRF token included): no NHS number in URLs.
                    "hx-post": lookup_url,
                    "hx-trigger": "input changed delay:400ms, change",
                    "hx-target": "#nhs-lookup",
                    "autocomplete": "off",
                }
            )
            names = [name for name in self.fields if name not in ("nhs_number", "same_person")]
            self.helper.layout = Layout(
                Field("nhs_number"),
                HTML('<div id="nhs-lookup" class="mb-3" aria-live="polite"></div>'),
                *names,
            )

    def offer_same_person(self) -> None:
        """Draw the "same person" box under the NHS number (after an IdentityMismatch)."""
        self.helper.layout.insert(1, Field("same_person"))

    def clean_nhs_number(self):
        return "".join(ch for ch in self.cleaned_data["nhs_number"] if ch not in " -")

    def clean_core_team(self):
        core = self.cleaned_data["core_team"]
        if len(core) < 2:
            raise forms.ValidationError("Name at least two staff for the core team.")
        return core


class MemberInviteField(forms.ModelMultipleChoiceField):
    """Network members, each shown with what limits inviting them (issue 13): one the person
    chose not to invite, and one who has not consented to be contacted (no email is sent)."""

    def label_from_instance(self, obj: NetworkMember) -> str:
        label = f"{obj.name} ({obj.relationship})" if obj.relationship else obj.name
        if not obj.person_wants_invited:
            return f"{label} - the person chose not to invite them"
        if obj.contact_consent == NetworkMember.Consent.REFUSED:
            return f"{label} - refused to be contacted: cannot be invited"
        if not obj.may_be_contacted:
            return f"{label} - not yet asked for consent to be contacted: no invitation is sent"
        return label


class MeetingScheduleForm(_Crispy, forms.Form):
    submit_label = "Schedule and send invitations"
    scheduled_start = dt_field("Starts at", kind="appointment", what="The meeting")
    duration_minutes = forms.IntegerField(
        label="Length (minutes)", min_value=15, max_value=480, initial=60
    )
    location = forms.ChoiceField(label="Place", choices=Meeting.Location.choices)
    location_detail = forms.CharField(
        label="Place details (address, room or video link)", max_length=200, required=False
    )
    staff = StaffChoiceField(
        queryset=None, label="Staff attending", widget=forms.CheckboxSelectMultiple
    )
    network_members = MemberInviteField(
        queryset=None,
        required=False,
        label="Network members to invite",
        widget=forms.CheckboxSelectMultiple,
        help_text=(
            "Members the person does not want invited are recorded as not invited, with the reason."
        ),
    )

    def __init__(self, *args, staff, members, **kwargs):
        super().__init__(*args, **kwargs)
        form_field(self, "staff", StaffChoiceField).queryset = staff
        form_field(self, "network_members", MemberInviteField).queryset = members
        self._helper()

    def clean_network_members(self):
        """A member the person chose not to invite, or who refused to be contacted, cannot be
        ticked (it would be silently dropped): say so, naming them."""
        chosen = self.cleaned_data["network_members"]
        errors = []
        not_wanted = [m.name for m in chosen if not m.person_wants_invited]
        if not_wanted:
            errors.append(
                f"The person chose not to invite {', '.join(not_wanted)}: untick them, or record "
                "the person's change of mind on the network page first."
            )
        refused = [
            m.name
            for m in chosen
            if m.person_wants_invited and m.contact_consent == NetworkMember.Consent.REFUSED
        ]
        if refused:
            errors.append(
                f"{', '.join(refused)} refused to be contacted by the team: untick them. They "
                "cannot be invited unless they agree (record it on the network page)."
            )
        if errors:
            raise forms.ValidationError(errors)
        return chosen


class DailyRunForm(MeetingScheduleForm):
    submit_label = "Schedule the daily run"
    days = forms.IntegerField(
        label="How many days",
        min_value=1,
        max_value=14,
        initial=7,
        help_text="One meeting a day, stopping at day 14 of the episode.",
    )
    field_order = ["scheduled_start", "days"]


class _HeldTimes(forms.Form):
    """A held meeting's `actual_start` and `actual_end`: the end must come after the start."""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("actual_start"), data.get("actual_end")
        if start and end and end <= start:
            self.add_error("actual_end", "A meeting must end after it starts.")
        return data


class _StaffAndMembers(_Crispy, forms.Form):
    """A form whose `staff` and `network_members` choices are given when it is drawn (the team's
    clinical staff; the person's network members)."""

    def __init__(self, *args, staff, members, **kwargs):
        super().__init__(*args, **kwargs)
        form_field(self, "staff", StaffChoiceField).queryset = staff
        form_field(self, "network_members", forms.ModelMultipleChoiceField).queryset = members
        self._helper()


class MeetingTookPlaceForm(_StaffAndMembers, _HeldTimes):
    """A meeting that has already taken place and was never arranged in POD: when, where, and
    who was there (meetings.services.meetings.meeting_record_past). Nobody is ticked by
    default: attendance is recorded, not assumed (issue 10)."""

    submit_label = "Record the meeting"
    actual_start = dt_field("Started at", what="The meeting's start")
    actual_end = dt_field("Ended at", what="The meeting's end")
    location = forms.ChoiceField(label="Place", choices=Meeting.Location.choices)
    location_detail = forms.CharField(
        label="Place details (address, room or video link)", max_length=200, required=False
    )
    person_attended = forms.BooleanField(label="The person was there", required=False)
    network_members: forms.ModelMultipleChoiceField[NetworkMember] = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        label="Network members who were there",
        widget=forms.CheckboxSelectMultiple,
    )
    staff = StaffChoiceField(
        queryset=None, label="Staff who were there", widget=forms.CheckboxSelectMultiple
    )


class MeetingHeldForm(_Crispy, _HeldTimes):
    submit_label = "Record as held"
    actual_start = dt_field("Actually started at", what="The meeting's start")
    actual_end = dt_field("Actually ended at", what="The meeting's end")

    def __init__(self, *args, participants, **kwargs):
        super().__init__(*args, **kwargs)
        self.participants = participants
        for p in participants:
            label = f"{p} attended" if p.kind != "service_user" else "The person attended"
            if not p.invited:
                label += " (not invited)"
            # Attendance is recorded, not assumed (issue 10): every box starts unticked.
            self.fields[f"attended_{p.pk}"] = forms.BooleanField(label=label, required=False)
        self._helper()

    def attendance(self) -> dict[int, bool]:
        return {p.pk: bool(self.cleaned_data.get(f"attended_{p.pk}")) for p in self.participants}


class ParticipantChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Participant) -> str:
        return "The person" if obj.kind == "service_user" else str(obj)


class UtteranceForm(_Crispy, forms.Form):
    submit_label = "Add to the record"
    participant = ParticipantChoiceField(queryset=None, label="Who spoke")
    kind = forms.ChoiceField(label="What it is", choices=Utterance.Kind.choices)
    words = forms.CharField(label="Their words", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, participants, **kwargs):
        # Two forms share the meeting page; distinct ids keep every label tied to its input.
        kwargs.setdefault("auto_id", "id_utterance_%s")
        super().__init__(*args, **kwargs)
        form_field(self, "participant", ParticipantChoiceField).queryset = participants
        self._helper()


AGREED_CHOICES = [("", "Not asked / not applicable"), ("yes", "Yes"), ("no", "No")]


class DecisionForm(_Crispy, forms.Form):
    submit_label = "Record the decision"
    kind = forms.ChoiceField(label="Kind of decision", choices=Decision.Kind.choices)
    text = forms.CharField(label="The decision", widget=forms.Textarea(attrs={"rows": 2}))
    person_agreed = forms.ChoiceField(
        label="Did the person agree?", choices=AGREED_CHOICES, required=False
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_decision_%s")
        super().__init__(*args, **kwargs)
        self._helper()

    def agreed(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("person_agreed") or "")


class MeetingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Meeting) -> str:
        when = obj.actual_start or obj.scheduled_start
        return f"Meeting of {timezone.localtime(when):%d %b %Y %H:%M}"


class CarePlanForm(_Crispy, forms.Form):
    submit_label = "Save a new version"
    meeting = MeetingChoiceField(queryset=None, label="Written in the meeting of", empty_label=None)
    what_matters = forms.CharField(
        label="What matters to the person, in their own words",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    actions = forms.CharField(label="What will be done", widget=forms.Textarea(attrs={"rows": 3}))
    responsible = forms.CharField(label="By whom", widget=forms.Textarea(attrs={"rows": 2}))
    person_views = forms.CharField(
        label="The person's views on the plan",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    person_agreed = forms.TypedChoiceField(
        label="Did the person agree the plan?",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    involved_members: forms.ModelMultipleChoiceField[NetworkMember] = (
        forms.ModelMultipleChoiceField(
            queryset=None,
            required=False,
            label="Network members involved",
            widget=forms.CheckboxSelectMultiple,
        )
    )

    def __init__(self, *args, meetings, members, **kwargs):
        super().__init__(*args, **kwargs)
        form_field(self, "meeting", MeetingChoiceField).queryset = meetings
        form_field(self, "involved_members", forms.ModelMultipleChoiceField).queryset = members
        self._helper()


class CurrentMedicationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: CurrentMedication) -> str:
        dose = f" {obj.dose}" if obj.dose else ""
        return f"{obj.medicine}{dose} (on the list from {obj.get_source_display().lower()})"


class PrescriptionForm(_Crispy, forms.Form):
    """A new medicine, or a continuing one chosen from the episode's current-medication list:
    there is no "new to this person" box to untick (issue 10, point 2)."""

    submit_label = "Prescribe"
    continuing = CurrentMedicationChoiceField(
        queryset=None,
        required=False,
        label="Continuing what the person already takes (from the current-medication list)",
        empty_label="No: a new medicine (the 3-meeting rule applies)",
        help_text="Only a medicine on the person's current-medication list is continuing; "
        "anything else is new.",
    )
    medicine = forms.CharField(
        label="Medicine", max_length=200, required=False, help_text="For a new medicine."
    )
    dose = forms.CharField(label="Dose and frequency", max_length=200, required=False)
    is_antipsychotic = forms.BooleanField(label="Antipsychotic (neuroleptic)", required=False)
    prescribed_at = dt_field("Prescribed at", what="The prescription")
    rapid_response = forms.BooleanField(
        label="Rapid response: physical safety is threatened (override the 3-meeting rule)",
        required=False,
    )
    override_explanation = forms.CharField(
        label="Why the override is needed (written reason, sent to the service manager)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="At least 20 characters: say what threatens physical safety.",
    )

    def __init__(self, *args, current, **kwargs):
        super().__init__(*args, **kwargs)
        form_field(self, "continuing", CurrentMedicationChoiceField).queryset = current
        self._helper()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("continuing") and not (data.get("medicine") or "").strip():
            self.add_error("medicine", "Name the new medicine, or choose a continuing one.")
        return data


class CurrentMedicationForm(_Crispy, forms.Form):
    submit_label = "Add to the list"
    medicine = forms.CharField(label="Medicine", max_length=200)
    dose = forms.CharField(label="Dose and frequency", max_length=200, required=False)
    source = forms.ChoiceField(
        label="Where the team learnt it",
        choices=[
            c
            for c in CurrentMedication.Source.choices
            if c[0] != CurrentMedication.Source.EARLIER_PRESCRIPTION
        ],
    )
    source_detail = forms.CharField(
        label="Details of the source (e.g. the letter or who said so)",
        max_length=300,
        required=False,
    )
    source_date = PlausibleDateField(label="Date of the source", kind="event", what="The date")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class CloseForm(_Crispy, forms.Form):
    submit_label = "Close the episode"
    closure_outcome = forms.CharField(
        label="Outcome of the episode", widget=forms.Textarea(attrs={"rows": 4})
    )
    closed_at = dt_field("Closed at", what="The closing")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


# --- A meeting's lifecycle after it is arranged (issue 10) -------------------------------------


class MeetingCancelForm(_Crispy, forms.Form):
    submit_label = "Cancel the meeting"
    called_off_by = forms.ChoiceField(
        label="Who called it off", choices=CalledOffBy.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label="Why it was called off",
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class MeetingRescheduleForm(_StaffAndMembers):
    submit_label = "Save the change"
    scheduled_start = LocalDateTimeField(label="Starts at", kind="appointment", what="The meeting")
    duration_minutes = forms.IntegerField(label="Length (minutes)", min_value=15, max_value=480)
    location = forms.ChoiceField(label="Place", choices=Meeting.Location.choices)
    location_detail = forms.CharField(
        label="Place details (address, room or video link)", max_length=200, required=False
    )
    staff = StaffChoiceField(
        queryset=None, label="Staff attending", widget=forms.CheckboxSelectMultiple
    )
    network_members: forms.ModelMultipleChoiceField[NetworkMember] = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        label="Network members to invite",
        widget=forms.CheckboxSelectMultiple,
        help_text=(
            "Members the person does not want invited stay recorded as not invited, with the "
            "reason."
        ),
    )
    reason = forms.CharField(
        label="Why the meeting is changed", widget=forms.Textarea(attrs={"rows": 2})
    )


class MeetingCorrectForm(_Crispy, _HeldTimes):
    submit_label = "Save the correction"
    actual_start = LocalDateTimeField(
        label="Actually started at", kind="event", what="The meeting's start"
    )
    actual_end = LocalDateTimeField(
        label="Actually ended at", kind="event", what="The meeting's end"
    )
    location = forms.ChoiceField(label="Place", choices=Meeting.Location.choices)
    location_detail = forms.CharField(
        label="Place details (address, room or video link)", max_length=200, required=False
    )
    came_members: forms.ModelMultipleChoiceField[NetworkMember] = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        label="Network members who came without an invitation",
        widget=forms.CheckboxSelectMultiple,
    )
    came_staff = StaffChoiceField(
        queryset=None,
        required=False,
        label="Staff who came without being listed",
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(
        label="Why the record is corrected", widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, participants, came_members, came_staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.participants = participants
        form_field(self, "came_members", forms.ModelMultipleChoiceField).queryset = came_members
        form_field(self, "came_staff", StaffChoiceField).queryset = came_staff
        names = ["submission_token", "actual_start", "actual_end", "location", "location_detail"]
        for p in participants:
            label = f"{p} attended" if p.kind != "service_user" else "The person attended"
            if not p.invited:
                label += " (not invited)"
            name = f"attended_{p.pk}"
            self.fields[name] = forms.BooleanField(
                label=label, required=False, initial=bool(p.attended)
            )
            names.append(name)
        self._helper()
        self.helper.layout = Layout(*names, "came_members", "came_staff", "reason")

    def attendance(self) -> dict[int, bool]:
        return {p.pk: bool(self.cleaned_data.get(f"attended_{p.pk}")) for p in self.participants}


class CloseWithMeetingsForm(CloseForm):
    """Closing an episode that has future meetings: they are listed, and cancelled once the
    clinician confirms (meetings.services.episodes.episode_close)."""

    cancel_meetings = forms.BooleanField(
        label="Cancel these meetings (called off by the team: the episode was closed)",
        required=False,
    )
    # The ids of the meetings listed on the page: the service refuses if another appeared since.
    listed_meetings = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)

    def __init__(self, *args, future_meetings, **kwargs):
        super().__init__(*args, **kwargs)
        self.future_meetings = list(future_meetings)
        if not self.future_meetings:
            del self.fields["cancel_meetings"]
        self.initial["listed_meetings"] = ",".join(str(m.pk) for m in self.future_meetings)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        listed = sorted(self._listed_ids())
        current = sorted(m.pk for m in self.future_meetings)
        if listed != current:
            # Another meeting was arranged (or one held or cancelled) since the page was drawn:
            # show the list as it is now and ask again.
            fresh = dict(self.data.items())
            fresh[self.add_prefix("listed_meetings")] = ",".join(map(str, current))
            fresh.pop(self.add_prefix("cancel_meetings"), None)
            self.data = fresh
            if current:
                self.add_error(
                    "cancel_meetings",
                    "The episode's future meetings have changed since this page was drawn: "
                    "check the list and confirm again.",
                )
        elif current and not data.get("cancel_meetings"):
            self.add_error(
                "cancel_meetings", "Closing the episode cancels these meetings: confirm it."
            )
        return data

    def _listed_ids(self) -> list[int]:
        raw = self.cleaned_data.get("listed_meetings") or ""
        parts = [part.strip() for part in raw.split(",")]
        # At most 18 digits: a bigger number is no meeting's id (and overflows the database's).
        return [int(part) for part in parts if is_ascii_digits(part) and len(part) <= 18][:500]

    def confirmed_meeting_ids(self) -> list[int]:
        """The listed meetings the clinician agreed to cancel; empty when not confirmed."""
        if not self.cleaned_data.get("cancel_meetings"):
            return []
        return self._listed_ids()


__all__ = [
    "CarePlanForm",
    "CloseForm",
    "CurrentMedicationForm",
    "CloseWithMeetingsForm",
    "DailyRunForm",
    "DecisionForm",
    "MeetingCancelForm",
    "MeetingCorrectForm",
    "MeetingHeldForm",
    "MeetingRescheduleForm",
    "MeetingScheduleForm",
    "MeetingTookPlaceForm",
    "NetworkMember",
    "PrescriptionForm",
    "ReferralForm",
    "UtteranceForm",
]
