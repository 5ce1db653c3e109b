"""Forms for outcomes. They check shape; the rules and services decide (and their
ValidationErrors are put back on the fields by the views)."""

from __future__ import annotations

from datetime import date
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet

from outcomes import rules, scoring
from outcomes.dashboard.scope import MAX_PERIOD_DAYS, default_period
from outcomes.models import (
    FidelityRating,
    LicensedMeasure,
    OutcomeAssessment,
    OutcomeImport,
    SurveyResponse,
)
from pod.foundation.fields import PlausibleDateField
from pod.foundation.forms import form_field
from pod.foundation.models import Team, Trust
from pod.foundation.numbers import is_ascii_digits
from pod.foundation.submissions import SubmissionTokenMixin

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _choose_from(form: forms.BaseForm, name: str, queryset: QuerySet[Any]) -> None:
    """Offer only `queryset` in the form's model choice field `name`."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


def _helper(label: str, method: str = "post") -> FormHelper:
    helper = FormHelper()
    helper.form_method = method
    helper.add_input(Submit("submit", label))
    return helper


class TeamSelect(forms.Select):
    """A team list whose options carry their trust (data-trust), so static/js/dashboard-filter.js
    can show only the chosen trust's teams."""

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(*args, **kwargs)
        instance = getattr(option["value"], "instance", None)
        if isinstance(instance, Team):
            option["attrs"]["data-trust"] = str(instance.trust_id)
        return option


class DashboardFilterForm(forms.Form):
    trust = forms.ModelChoiceField(
        queryset=Trust.objects.none(), required=False, empty_label="All my trusts"
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label="All my teams", widget=TeamSelect
    )
    start = PlausibleDateField(label="From", widget=DATE, kind="query", what="The start")
    end = PlausibleDateField(label="To", widget=DATE, kind="query", what="The end")
    timepoint = forms.TypedChoiceField(
        label="Outcomes at",
        coerce=int,
        choices=rules.TIMEPOINT_CHOICES,
        initial=rules.DASHBOARD_TIMEPOINT,
        required=False,
        empty_value=None,  # the view shows rules.DASHBOARD_TIMEPOINT
    )

    def __init__(
        self,
        *args: Any,
        teams: QuerySet[Team],
        today: date,
        default_start: date | None = None,
        **kwargs: Any,
    ) -> None:
        """`default_start`: the period's first day when none is chosen (the last 365 days when
        None, or when it is later than that)."""
        super().__init__(*args, **kwargs)
        trust_id = self.data.get("trust", "") if self.is_bound else ""
        # Choosing a trust narrows the team list to its teams (here for the page as sent, and in
        # the browser as the trust changes: static/js/dashboard-filter.js).
        narrowed = teams.filter(trust_id=int(trust_id)) if is_ascii_digits(str(trust_id)) else teams
        _choose_from(self, "team", narrowed)
        _choose_from(self, "trust", Trust.objects.filter(teams__in=teams).distinct())
        self.fields["start"].initial, self.fields["end"].initial = default_period(
            today, default_start
        )
        self.helper = _helper("Show", method="get")
        self.helper.form_class = "row g-2 align-items-end"
        self.helper.form_id = "dashboard-filter"
        self.helper.disable_csrf = True

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The end of the period must be after its start.")
            elif (end - start).days > MAX_PERIOD_DAYS:
                self.add_error("start", "Choose a period of ten years or less.")
        team, trust = data.get("team"), data.get("trust")
        if team and trust and team.trust_id != trust.pk:
            self.add_error("team", "This team is not in the chosen trust.")
        return data


class TeamChoiceForm(forms.Form):
    """One of the user's teams, one of their trusts, or all their teams (both left empty)."""

    trust = forms.ModelChoiceField(
        queryset=Trust.objects.none(), required=False, empty_label="All my trusts"
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label="All my teams"
    )

    def __init__(
        self, *args: Any, teams: QuerySet[Team], label: str = "Show", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _choose_from(self, "team", teams)
        _choose_from(self, "trust", Trust.objects.filter(teams__in=teams).distinct())
        self.helper = _helper(label, method="get")
        self.helper.form_class = "row g-2 align-items-end"
        self.helper.disable_csrf = True

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        team, trust = data.get("team"), data.get("trust")
        if team and trust and team.trust_id != trust.pk:
            self.add_error("team", "This team is not in the chosen trust.")
        return data

    def chosen(self, teams: QuerySet[Team]) -> QuerySet[Team]:
        """Of `teams`, those the valid form chose."""
        data = self.cleaned_data
        if data.get("trust"):
            teams = teams.filter(trust=data["trust"])
        if data.get("team"):
            teams = teams.filter(pk=data["team"].pk)
        return teams


class RelapseFilterForm(TeamChoiceForm):
    """The time-to-relapse page: whose people, and optionally whose baseline falls when."""

    baseline_from = PlausibleDateField(
        label="Baseline from", required=False, what="The first baseline date"
    )
    baseline_to = PlausibleDateField(
        label="Baseline to", required=False, what="The last baseline date"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("baseline_from"), data.get("baseline_to")
        if start and end and end < start:
            self.add_error("baseline_to", "The last baseline date must be after the first.")
        return data


class ScoredMeasureForm(SubmissionTokenMixin, forms.Form):
    completed_on = PlausibleDateField(widget=DATE, kind="event", what="The measure's date")

    def __init__(self, *args: Any, instrument: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        if instrument == "DIALOG":
            labels = [*scoring.DIALOG_LIFE_DOMAINS, *scoring.DIALOG_TREATMENT]
            choices = [(i, str(i)) for i in range(1, 8)]
            help_text = "1 = totally dissatisfied, 7 = totally satisfied"
        else:
            labels = [f"Item {i}" for i in range(1, scoring.ITEM_COUNTS[instrument] + 1)]
            choices = [
                (0, "0 - not at all"),
                (1, "1 - several days"),
                (2, "2 - more than half the days"),
                (3, "3 - nearly every day"),
            ]
            help_text = ""
        for i, label in enumerate(labels, start=1):
            self.fields[f"item_{i}"] = forms.TypedChoiceField(
                label=label, coerce=int, choices=[("", "---"), *choices], help_text=help_text
            )
        self.helper = _helper("Save and score")

    def item_scores(self) -> list[int]:
        count = scoring.ITEM_COUNTS[self.instrument]
        return [self.cleaned_data[f"item_{i}"] for i in range(1, count + 1)]


class LicensedMeasureForm(SubmissionTokenMixin, forms.ModelForm):
    completed_on = PlausibleDateField(widget=DATE, kind="event", what="The measure's date")

    class Meta:
        model = LicensedMeasure
        fields = ["name", "completed_on", "score"]
        widgets = {"completed_on": DATE}
        labels = {"name": "Measure", "score": "Total score"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Save")


class OutcomeAssessmentForm(SubmissionTokenMixin, forms.ModelForm):
    assessed_on = PlausibleDateField(widget=DATE, kind="event", what="The assessment")
    relapse_on = PlausibleDateField(
        widget=DATE,
        kind="event",
        what="The relapse",
        required=False,
        label="Date of relapse",
        help_text="Date the relapse began, when known (only with a relapse)",
    )

    class Meta:
        model = OutcomeAssessment
        fields = [
            "timepoint_months",
            "assessed_on",
            "symptom_level",
            "relapse",
            "relapse_on",
            "hospital_bed_days",
            "disability_benefit",
            "neuroleptic_use",
            "work_or_study",
        ]
        widgets = {"assessed_on": DATE, "relapse_on": DATE}
        labels = {"timepoint_months": "Time point", "hospital_bed_days": "Hospital bed-days"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Save")

    def clean(self) -> dict[str, Any]:
        """A relapse date needs a relapse and falls on or before the assessment, said at the
        field (the service checks again, and against the baseline)."""
        super().clean()
        data = self.cleaned_data
        relapse_on, assessed_on = data.get("relapse_on"), data.get("assessed_on")
        if relapse_on and not data.get("relapse"):
            self.add_error("relapse_on", "A relapse date needs a relapse recorded.")
        elif relapse_on and assessed_on and relapse_on > assessed_on:
            self.add_error("relapse_on", "The relapse must be on or before the assessment.")
        return data

    def validate_unique(self) -> None:
        """Uniqueness is the service's job (it reports the time point clearly)."""


class SurveyForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field, statement, _national in rules.SURVEY_STATEMENTS:
            self.fields[field] = forms.ChoiceField(
                label=statement, choices=SurveyResponse.Answer.choices, widget=forms.RadioSelect
            )
        self.helper = _helper("Send my answers")


class FidelityForm(SubmissionTokenMixin, forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field, label in rules.FIDELITY_ELEMENTS:
            self.fields[field] = forms.TypedChoiceField(
                label=label,
                coerce=int,
                choices=FidelityRating.Score.choices,
                widget=forms.RadioSelect,
            )
        self.helper = _helper("Save rating")


class ImportForm(SubmissionTokenMixin, forms.Form):
    """Upload a file of outcome assessments to preview (nothing is written until "Import")."""

    team = forms.ModelChoiceField(queryset=Team.objects.none())
    file = forms.FileField(
        label="CSV file",
        help_text="Comma, semicolon or tab separated; UTF-8 or Excel's Windows CSV. "
        "Headers as in the template (case, spaces and underscores do not matter).",
    )
    mode = forms.ChoiceField(
        choices=OutcomeImport.Mode.choices,
        initial=OutcomeImport.Mode.ADD,
        widget=forms.RadioSelect,
        help_text="Add: rows already recorded with the same values are left alone; rows that "
        "differ are refused. Update: rows that differ replace what is recorded (shown before "
        "and after in the preview).",
    )
    date_format = forms.ChoiceField(
        label="Dates in the file",
        choices=OutcomeImport.DateFormat.choices,
        initial=OutcomeImport.DateFormat.ISO,
        widget=forms.RadioSelect,
        help_text="Day/month/year is never guessed: 03/04/2015 is read as 3 April only when "
        "you choose DD/MM/YYYY.",
    )
    register_new = forms.BooleanField(
        label="Register people not found as new people (placeholder names until the team "
        "meets them)",
        required=False,
    )

    def __init__(self, *args: Any, teams: QuerySet[Team], may_register: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _choose_from(self, "team", teams)
        if not may_register:
            del self.fields["register_new"]
        self.helper = _helper("Check the file")

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if (upload.size or 0) > rules.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {rules.IMPORT_MAX_BYTES // 2**20} MB; split it."
            )
        return upload


class ImportStartForm(SubmissionTokenMixin, forms.Form):
    """ "Import" under a preview: writes the previewed plan, once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Import")


class SamePersonForm(SubmissionTokenMixin, forms.Form):
    """The uploader's "same person" for NHS numbers whose name or date of birth differ."""

    same_person = forms.MultipleChoiceField(
        label="These are the same people as on record", widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "same_person", forms.MultipleChoiceField).choices = choices
        self.helper = _helper("Confirm and check again")
