"""Email: one subject/text/html template set per message, rendered by one helper."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def email_build(
    template: str,
    *,
    to: Iterable[str],
    context: dict[str, Any],
    attachments: Iterable[tuple[str, bytes | str, str]] = (),
) -> EmailMultiAlternatives:
    """Render templates/emails/<template>_{subject.txt,body.txt,body.html} into one message."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    text = render_to_string(f"emails/{template}_body.txt", context)
    html = render_to_string(f"emails/{template}_body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=list(to))
    message.attach_alternative(html, "text/html")
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    return message


def email_send(template: str, **kwargs: Any) -> None:
    email_build(template, **kwargs).send(fail_silently=False)
