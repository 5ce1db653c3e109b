"""Forms for the clinician's network-member pages."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from networks.models import NetworkMember
from pod.foundation.submissions import SubmissionTokenMixin


class NetworkMemberForm(SubmissionTokenMixin, forms.ModelForm):
    consent_to_contact = forms.BooleanField(
        label="They consent to be contacted and invited by the team",
        required=False,
        help_text="The date and your name are recorded with the answer.",
    )
    consent_to_information = forms.BooleanField(
        label="They consent to receive information about the person's care",
        required=False,
        help_text="For example a copy of the care plan or a meeting summary. "
        "The date and your name are recorded with the answer.",
    )

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
            "consent_to_contact",
            "consent_to_information",
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
            label = f"They consent to receive information about {person}'s care"
            self.fields["consent_to_information"].label = label
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
