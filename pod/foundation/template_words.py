"""Times and spans in words in templates: `{% load pod_words %}`, then `{{ span|span_words }}`
("30 minutes", "2 days 3 h") and `{{ instant|when }}` ("Mon 2 Mar, 09:00", with the year when
it is not this year). The wording is pod/foundation/time_words.py's, the one place of it.
Registered by name in settings.TEMPLATES (pod/foundation is no Django app of its own)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone

from pod.foundation import time_words

register = template.Library()


@register.filter
def span_words(span: timedelta | None) -> str:
    return "" if span is None else time_words.span_words(span)


@register.filter
def when(instant: datetime | None) -> str:
    return "" if instant is None else time_words.instant_words(instant, now=timezone.now())
