"""`{% submission_token %}`: the one-time form token for a form written out by hand in a template.

A form drawn from a Django form class gets the token from `SubmissionTokenMixin`; a form written
in the template (a confirm button, a form whose fields are laid out by hand) puts this tag next
to `{% csrf_token %}`. Each use draws a fresh token, so two forms on one page never share one.
Its view is wrapped in `pod.foundation.submissions.one_submission`. A builtin (pod/settings.py
TEMPLATES), so no `{% load %}` is needed.
"""

from __future__ import annotations

import uuid

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from pod.foundation.submissions import TOKEN_FIELD

register = template.Library()


@register.simple_tag
def submission_token() -> SafeString:
    """A hidden input carrying a new token (a refused form drawn again gets a new one too: a
    refused submission keeps no token, so either is safe)."""
    return format_html('<input type="hidden" name="{}" value="{}">', TOKEN_FIELD, uuid.uuid4())
