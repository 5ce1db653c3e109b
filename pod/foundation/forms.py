"""Forms for the security pages (two-factor set-up and verification), and `form_field`, which
every app's forms use to reach a field they fill at run time."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.utils import timezone

from pod.foundation.emails import RenderedEmail, render_plain_text
from pod.foundation.numbers import is_ascii_digits
from pod.foundation.outbox import Recipient, message_owe

F = TypeVar("F", bound=forms.Field)


def form_field(form: forms.BaseForm, name: str, kind: type[F]) -> F:
    """`form.fields[name]` as the kind of field it is declared as, e.g. a ModelChoiceField whose
    queryset a view sets per request. TypeError when the field is of another kind."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(
            f"{type(form).__name__}.{name} is a {type(field).__name__}, not a {kind.__name__}"
        )
    return field


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autofocus": True,
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
    )

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split()).lower()
        if not token.isalnum():
            raise forms.ValidationError("Enter the code as it is shown, letters and digits only.")
        return token


class SetupTokenForm(TokenForm):
    token = forms.CharField(
        label="Code from your app",
        max_length=8,
        help_text="After scanning, type the 6-digit code your app shows.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split())
        if not (is_ascii_digits(token) and len(token) == 6):
            raise forms.ValidationError("Enter the 6 digits your app shows.")
        return token


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's password-reset form, its email owed to the outbox (pod/foundation/outbox.py)
    instead of sent inside the request: Django's own send swallows a mail-server error, so the
    link was lost while the page said it was on its way. Each request owes a new message."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = " ".join(render_plain_text(subject_template_name, context).split())
        message_owe(
            kind="password_reset",
            cause=f"password_reset:{uuid.uuid4().hex}",
            recipient=Recipient(address=to_email, user_id=context["user"].pk),
            email=RenderedEmail(
                subject=subject, text=render_plain_text(email_template_name, context), html=""
            ),
            now=timezone.now(),
        )


class ReauthForm(forms.Form):
    """Proof that the person at the keyboard is the account holder, before the second factor is
    replaced or removed: the password and a current code (a stolen session has neither)."""

    ACTIONS = (
        ("replace", "Replace my authenticator"),
        ("codes", "Issue new backup codes"),
        ("remove", "Remove my second factor"),
    )

    action = forms.ChoiceField(choices=ACTIONS, widget=forms.HiddenInput)
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    token = forms.CharField(
        label="A current code",
        max_length=16,
        help_text="From your authenticator app, or one of your backup codes (used up).",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "none"}),
    )

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split()).lower()
        if not token.isalnum():
            raise forms.ValidationError("Enter the code as it is shown, letters and digits only.")
        return token
