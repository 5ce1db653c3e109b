"""The manager's decision on a review (meetings/review_models.py)."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from meetings.models import Review
from pod.foundation.submissions import SubmissionTokenMixin


class ReviewDecisionForm(SubmissionTokenMixin, forms.Form):
    decision = forms.ChoiceField(
        label="Your decision",
        choices=[c for c in Review.Decision.choices if c[0] != Review.Decision.OPEN],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What you found; what was done, or to whom it was escalated (needed for both).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Record the decision"))
