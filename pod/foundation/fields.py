"""Form fields for dates and times that apply pod.foundation.plausibility at the field.

`LocalDateTimeField` reads a London wall-clock time from a `datetime-local` input. A time that
happens twice (the autumn clock change) is refused until the person says which one they mean:
the field then shows a choice, posted as `<name>_fold`, and stores the instant they chose. A time
in the spring-forward gap is refused with a message that says why. The POST name of the time
itself stays `<name>`, so a form's data keys do not change.

`PlausibleDateField` reads a calendar date and checks it is plausible for its kind.

Services apply the same checks again with the `now` they are given (the form's check gives the
message early, at the field; the service is the guard for every other caller).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django import forms
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from pod.foundation.localtime import LONDON
from pod.foundation.plausibility import (
    FOLD_CHOICES,
    ImplausibleTime,
    appointment_error,
    birth_date_error,
    earliest_error,
    event_error,
    local_to_instant,
    query_date_error,
)

DATETIME_INPUT_FORMAT = "%Y-%m-%dT%H:%M"
# The browser's own format (datetime-local), and the British day/month/year that the error
# message gives as its example for anyone typing a time by hand.
_PARSE_FORMATS = (
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
)
# The longest text any accepted format can be: longer input is refused before parsing.
_MAX_INPUT = 19

DateTimeKind = Literal["event", "appointment", "any"]
DateKind = Literal["birth", "event", "query", "any"]


class LocalDateTimeWidget(forms.DateTimeInput):
    """A `datetime-local` input, plus a BST/GMT choice shown only when the time is ambiguous."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=DATETIME_INPUT_FORMAT)
        self.fold_needed = False
        self.fold_value = ""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return (data.get(name), data.get(f"{name}_fold"))

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, tuple):
            value = value[0]
        if isinstance(value, datetime) and timezone.is_aware(value):
            value = value.astimezone(LONDON).replace(tzinfo=None)
        return super().format_value(value)

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        html = super().render(name, value, attrs, renderer)
        if not self.fold_needed:
            return html
        field_id = (attrs or {}).get("id") or f"id_{name}"
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, " selected" if key == self.fold_value else "", label)
                for key, label in FOLD_CHOICES
            ),
        )
        return format_html(
            '{}<label class="form-label mt-2" for="{}_fold">Which {}?</label>'
            '<select class="form-select" name="{}_fold" id="{}_fold">{}</select>',
            html,
            field_id,
            "time",
            name,
            field_id,
            options,
        )


class LocalDateTimeField(forms.Field):
    """An aware instant from a London wall-clock time, checked for plausibility.

    `kind`: "event" (has happened: not in the future), "appointment" (may be ahead, within two
    years), "any" (only the 1900 floor). `what` starts the messages ("The referral").
    """

    widget = LocalDateTimeWidget
    default_error_messages = {"invalid": "Enter a date and time, for example 25/10/2026 14:30."}

    def __init__(self, *, kind: DateTimeKind = "any", what: str = "This time", **kwargs: Any):
        super().__init__(**kwargs)
        self.kind = kind
        self.what = what

    def to_python(self, value: Any) -> datetime | None:
        text, fold = value if isinstance(value, tuple) else (value, None)
        if isinstance(text, datetime):
            return text if timezone.is_aware(text) else local_to_instant(text, fold=0)
        if text in self.empty_values or not str(text).strip():
            return None
        text = str(text).strip()
        if len(text) > _MAX_INPUT:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        wall = None
        for fmt in _PARSE_FORMATS:
            try:
                wall = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if wall is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        fold_choice = int(fold) if fold in ("0", "1") else None
        assert isinstance(self.widget, LocalDateTimeWidget)
        self.widget.fold_value = fold if fold in ("0", "1") else ""
        try:
            return local_to_instant(wall, fold=fold_choice)
        except ImplausibleTime as error:
            if error.ambiguous:
                self.widget.fold_needed = True
            raise forms.ValidationError(error.message, code="ambiguous_or_missing_time") from None
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is None:
            return
        now = timezone.now()
        if self.kind == "appointment":
            message = appointment_error(value, now=now, what=self.what)
        elif self.kind == "event":
            message = event_error(value, now=now, what=self.what)
        else:
            message = earliest_error(value, what=self.what)
        if message:
            raise forms.ValidationError(message, code="implausible")


class PlausibleDateField(forms.DateField):
    """A calendar date checked for plausibility: "birth", "event" (not in the future), "query"
    (a period asked for: up to a year ahead) or "any" (the 1900 floor only). `what` starts the
    messages ("The assessment")."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def __init__(self, *, kind: DateKind = "any", what: str = "This date", **kwargs: Any):
        kwargs.setdefault("input_formats", ["%Y-%m-%d", "%d/%m/%Y"])
        super().__init__(**kwargs)
        self.kind = kind
        self.what = what

    def to_python(self, value: Any) -> date | None:
        if isinstance(value, str) and len(value.strip()) > 10:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is None:
            return
        today = timezone.localdate()
        if self.kind == "birth":
            message = birth_date_error(value, today=today)
        elif self.kind == "event":
            message = event_error(value, now=timezone.now(), what=self.what)
        elif self.kind == "query":
            message = query_date_error(value, today=today, what=self.what)
        else:
            message = earliest_error(value, what=self.what)
        if message:
            raise forms.ValidationError(message, code="implausible")
