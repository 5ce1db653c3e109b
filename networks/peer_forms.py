"""Forms for peer work. The contact form is built for a phone: one short page, big targets."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone

from networks.models import NetworkMember, PeerContact
from pod.foundation.fields import LocalDateTimeField, LocalDateTimeWidget
from pod.foundation.forms import form_field
from pod.foundation.models import User
from pod.foundation.submissions import SubmissionTokenMixin

PERSON = "person"

# One tap for the lengths most contacts have (issue 13, point 4); "Other" takes any minutes.
QUICK_DURATIONS = [("5", "5 min"), ("15", "15 min"), ("30", "30 min"), ("60", "1 hour")]
OTHER_DURATION = "other"


class PeerContactFields(TypedDict):
    """A contact's fields, as the form cleans them and the peer services take them."""

    with_service_user: bool
    members: list[NetworkMember]
    contact_at: datetime
    mode: str
    duration_minutes: int
    purpose: str
    note: str


def _member_label(member: NetworkMember) -> str:
    """A member as the contact form lists them: marked when they have not consented to be
    contacted, so they are never picked without the peer seeing it (issue 13)."""
    label = f"{member.name} ({member.relationship})"
    if member.contact_consent == NetworkMember.Consent.REFUSED:
        label += " - refused to be contacted"
    elif not member.may_be_contacted:
        label += " - not yet asked for consent to be contacted"
    return label


class PeerContactForm(forms.Form):
    """Who, how, when, how long, why, and a short note. Rendered by
    templates/networks/peer/contact_form.html as toggle buttons, so one tap answers each."""

    who = forms.MultipleChoiceField(
        label="Who was the contact with?",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose who the contact was with."},
    )
    mode = forms.ChoiceField(
        label="How",
        choices=PeerContact.Mode.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how you were in contact."},
    )
    # Not before 1900, not in the future; the autumn's repeated hour asks BST or GMT
    # (pod.foundation.fields). The service checks again, with the person's date of birth.
    contact_at = LocalDateTimeField(
        label="When",
        kind="event",
        what="A contact",
        widget=LocalDateTimeWidget(attrs={"class": "form-control form-control-lg"}),
        error_messages={"invalid": "Enter a date and time, like 26/11/2026 14:30."},
    )
    duration_quick = forms.ChoiceField(
        label="How long",
        choices=QUICK_DURATIONS + [(OTHER_DURATION, "Other")],
        widget=forms.RadioSelect,
        required=False,
    )
    duration_minutes = forms.IntegerField(
        label="How long (minutes)",
        required=False,
        min_value=1,
        max_value=24 * 60,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "max": 1440}),
        error_messages={
            "min_value": "A contact lasts at least 1 minute.",
            "max_value": "A contact lasts at most 24 hours (1440 minutes).",
        },
    )
    purpose = forms.ChoiceField(
        label="Purpose",
        choices=PeerContact.Purpose.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the purpose of the contact."},
    )
    note = forms.CharField(
        label="Short note",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
    )

    def __init__(
        self,
        *args,
        service_user,
        members: list[NetworkMember],
        last_mode: str | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        # The peer's last contact type is chosen for them: most of a peer's contacts go the
        # same way (a phone call, a visit); one tap changes it.
        if not self.is_bound and last_mode and "mode" not in self.initial:
            self.initial["mode"] = last_mode
        self.members_by_id = {str(m.pk): m for m in members}
        form_field(self, "who", forms.MultipleChoiceField).choices = [
            (PERSON, f"{service_user.display_name} (the person)")
        ] + [(str(m.pk), _member_label(m)) for m in members]
        if not self.is_bound and "contact_at" not in self.initial:
            self.initial["contact_at"] = timezone.localtime().replace(second=0, microsecond=0)

    def clean(self) -> dict[str, object]:
        """How long: a quick duration (5, 15, 30, 60) or the minutes typed, never a silent pick.

        A quick choice with no minutes typed, or with the same minutes typed (the page's script
        fills the box when a quick length is tapped), is that length. "Other" or no choice takes
        the typed minutes. A quick choice with *different* minutes typed is a field error on
        the minutes: neither answer is chosen for the peer (issue 13, the reviewer's finding
        that the quick choice silently won). No minutes at all is a field error too.
        """
        data = super().clean() or {}
        quick = data.get("duration_quick")
        typed = data.get("duration_minutes")
        if "duration_minutes" in self.errors:
            return data
        if quick and quick != OTHER_DURATION:
            if typed is not None and typed != int(quick):
                self.add_error(
                    "duration_minutes",
                    f"You chose {dict(QUICK_DURATIONS)[quick]} and typed {typed} minutes: "
                    f'clear the minutes, or choose "Other" to keep {typed} minutes.',
                )
            else:
                data["duration_minutes"] = int(quick)
        elif typed is None:
            self.add_error(
                "duration_minutes",
                "Choose how long the contact was, or type the minutes.",
            )
        return data

    def service_kwargs(self) -> PeerContactFields:
        """The cleaned contact, as peer_services.peer_contact_log and _update take it."""
        data = self.cleaned_data
        who = set(data["who"])
        return PeerContactFields(
            with_service_user=PERSON in who,
            members=[self.members_by_id[k] for k in who if k in self.members_by_id],
            contact_at=data["contact_at"],
            mode=data["mode"],
            duration_minutes=data["duration_minutes"],
            purpose=data["purpose"],
            note=data["note"],
        )

    @classmethod
    def initial_for(cls, contact: PeerContact) -> dict[str, object]:
        """The form's initial values for changing `contact`."""
        who = [str(pk) for pk in contact.members.values_list("pk", flat=True)]
        if contact.with_service_user:
            who.insert(0, PERSON)
        return {
            "who": who,
            "mode": contact.mode,
            "purpose": contact.purpose,
            "note": contact.note,
            "contact_at": timezone.localtime(contact.contact_at),
            "duration_quick": (
                str(contact.duration_minutes)
                if str(contact.duration_minutes) in dict(QUICK_DURATIONS)
                else OTHER_DURATION
            ),
            "duration_minutes": contact.duration_minutes,
        }


class MemberProposeForm(SubmissionTokenMixin, forms.ModelForm):
    class Meta:
        model = NetworkMember
        fields = ["name", "relationship", "category", "closeness", "phone", "email"]
        labels = {"relationship": "Who they are to the person"}
        help_texts = {
            "relationship": "In the person's words: 'neighbour at no. 4', 'friend from the choir'",
            "phone": "Only if they agreed to be contacted.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Propose", css_class="btn-lg w-100"))


class MemberConsentForm(forms.Form):
    """The person's decision on a proposed member, with the member's two consent answers.

    Each answer is one of NetworkMember.Consent (not yet asked / agreed / refused) and starts
    blank: adding the member needs each chosen (a field error otherwise); declining does not
    (`accepting=False`), the member never joins."""

    person_consents = forms.BooleanField(
        label="The person agrees that they join their network", required=False
    )
    member_consents_to_contact = forms.ChoiceField(
        label="Have they agreed to be contacted by the team and peers?",
        choices=NetworkMember.Consent.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    member_consents_to_information = forms.ChoiceField(
        label="Have they agreed to be given information about the person's care?",
        choices=NetworkMember.Consent.choices,
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(self, *args, accepting: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.accepting = accepting

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        for name in ("member_consents_to_contact", "member_consents_to_information"):
            if self.accepting and not data.get(name) and name not in self.errors:
                self.add_error(name, "Choose their answer: not yet asked, agreed or refused.")
        return data


class PeerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.get_full_name() or obj.username} ({obj.get_role_display()})"


class PeerAssignForm(SubmissionTokenMixin, forms.Form):
    peer = PeerChoiceField(
        label="Peer worker or volunteer",
        queryset=User.objects.none(),
        empty_label="Choose a peer",
        error_messages={"invalid_choice": "Choose a peer of this team who is not yet assigned."},
    )

    def __init__(self, *args, peers, **kwargs):
        super().__init__(*args, **kwargs)
        form_field(self, "peer", PeerChoiceField).queryset = peers
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Assign", css_class="btn-lg"))
