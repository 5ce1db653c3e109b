"""Shared by every view that calls a service: show its ValidationError on the form."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: at the field when the form has that field,
    otherwise at the top of the form, so the message is never lost."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for field_error in errors:
                form.add_error(target, field_error)
    else:
        for message in error.messages:
            form.add_error(None, message)
