"""Forms for the clinician's network-member pages."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from networks.models import NetworkMember
from pod.foundation.forms import form_field
from pod.foundation.submissions import SubmissionTokenMixin

CONSENT_HELP = "The date and your name are recorded with an answer of agreed or refused."


class NetworkMemberForm(SubmissionTokenMixin, forms.ModelForm):
    """A member's details and their two consent answers (NetworkMember.Consent: not yet asked,
    agreed, refused). Adding a member, each answer must be chosen: nothing is preselected, so
    "not yet asked" is said, not assumed (issue 13). Editing, the recorded answer is shown; once
    answered, "not yet asked" is no longer offered (an answer is changed by another answer)."""

    contact_consent = forms.ChoiceField(
        label="Have they agreed to be contacted and invited by the team?",
        choices=NetworkMember.Consent.choices,
        widget=forms.RadioSelect,
        help_text=CONSENT_HELP,
        error_messages={"required": "Choose their answer: not yet asked, agreed or refused."},
    )
    information_consent = forms.ChoiceField(
        label="Have they agreed to receive information about the person's care?",
        choices=NetworkMember.Consent.choices,
        widget=forms.RadioSelect,
        help_text="For example a copy of the care plan or a meeting summary. " + CONSENT_HELP,
        error_messages={"required": "Choose their answer: not yet asked, agreed or refused."},
    )
    # The answers as recorded when the form was drawn: the service changes an answer only when
    # this form changed it, and refuses one changed meanwhile by someone else (a stale form must
    # not turn a refusal back into "agreed": issue 13 review).
    contact_consent_was = forms.CharField(required=False, widget=forms.HiddenInput)
    information_consent_was = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = NetworkMember
        fields = [
            "name",
            "category",
            "relationship",
            "closeness",
            "phone",
            "email",
            "address",
            "contact_consent",
            "information_consent",
            "person_wants_invited",
            "not_invited_reason",
        ]
        labels = {
            "category": "Who they are",
            "relationship": "Relationship, in the person's words",
            "person_wants_invited": "The person wants them invited to meetings",
            "not_invited_reason": "If not, why not (in the person's words)",
        }
        widgets = {
            "address": forms.Textarea(attrs={"rows": 2}),
            "not_invited_reason": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, submit_label: str = "Save", person=None, **kwargs):
        super().__init__(*args, **kwargs)
        if person is not None:
            label = f"Have they agreed to receive information about {person}'s care?"
            self.fields["information_consent"].label = label
        answered = {
            name: getattr(self.instance, name)
            for name in ("contact_consent", "information_consent")
        }
        for name, answer in answered.items():
            if self.instance.pk is not None:
                self.fields[f"{name}_was"].initial = answer
            field = form_field(self, name, forms.ChoiceField)
            # A new member's form starts with neither answer chosen (the test draws it).
            if self.instance.pk is not None and answer != NetworkMember.Consent.NOT_ASKED:
                field.choices = [
                    c
                    for c in NetworkMember.Consent.choices
                    if c[0] != NetworkMember.Consent.NOT_ASKED
                ]
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", submit_label))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if (
            not data.get("person_wants_invited")
            and not (data.get("not_invited_reason") or "").strip()
        ):
            self.add_error("not_invited_reason", "Say why the person does not want them invited.")
        return data

    def _post_clean(self):
        # The services validate and save; the model form only checks the fields themselves.
        pass
