"""Forms of the person pages: the search, correcting a person's details, and releasing a piece
of third-party data in a subject-access copy."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from networks.validators import validate_nhs_number
from pod.foundation.fields import PlausibleDateField
from pod.foundation.submissions import SubmissionTokenMixin


class PersonSearchForm(forms.Form):
    """POST, so a name or NHS number never sits in a URL (proxy and server logs)."""

    q = forms.CharField(
        label="Name or NHS number",
        max_length=100,
        help_text="Any spacing or hyphens in the number; accents, capitals and apostrophes in "
        "names do not matter.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("search", "Search"))


class DetailsCorrectionForm(SubmissionTokenMixin, forms.Form):
    nhs_number = forms.CharField(
        label="NHS number", max_length=14, validators=[validate_nhs_number]
    )
    given_name = forms.CharField(label="Given name", max_length=100)
    family_name = forms.CharField(label="Family name", max_length=100)
    preferred_name = forms.CharField(label="Preferred name", max_length=100, required=False)
    date_of_birth = PlausibleDateField(kind="birth", what="The date of birth", required=False)
    phone = forms.CharField(label="Phone", max_length=30, required=False)
    email = forms.EmailField(label="Email", required=False)
    address = forms.CharField(
        label="Address", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    postcode = forms.CharField(label="Postcode", max_length=10, required=False)
    reason = forms.CharField(
        label="Why the details are corrected",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text='Kept with the correction, for example "Date of birth confirmed against '
        'the GP record".',
    )

    FIELDS = (
        "nhs_number",
        "given_name",
        "family_name",
        "preferred_name",
        "date_of_birth",
        "phone",
        "email",
        "address",
        "postcode",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Correct the details"))

    def clean_nhs_number(self) -> str:
        return "".join(ch for ch in self.cleaned_data["nhs_number"] if ch not in " -")

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class InclusionForm(SubmissionTokenMixin, forms.Form):
    item = forms.CharField(widget=forms.HiddenInput, max_length=200)
    reason = forms.CharField(
        label="Why it may be released",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text='For example "The member consented in writing on 3 March".',
    )
