"""Email: one subject/text/html template set per message, rendered by one helper.

`email_render` is the one place templates become an email: the subject and the plain-text body
are rendered with autoescaping off (plain text is plain: "The person's home", "A&E", never
"&#x27;" or "&amp;"), the HTML body with it on. Messages are owed through the outbox
(pod/foundation/outbox.py), which stores what this renders.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context
from django.template.loader import get_template, render_to_string


@dataclass(frozen=True)
class RenderedEmail:
    """What an email says: a one-line subject, the plain-text body and the HTML body."""

    subject: str
    text: str
    html: str


def render_plain_text(template_name: str, context: dict[str, Any]) -> str:
    """Render a Django template as plain text: autoescaping off, so `'` and `&` stay themselves.

    For email subjects and plain-text bodies only, never for a page. Raises
    TemplateDoesNotExist / TemplateSyntaxError as Django's loader does.
    """
    template = get_template(template_name).template  # type: ignore[attr-defined]
    return str(template.render(Context(context, autoescape=False)))


def email_render(template: str, context: dict[str, Any]) -> RenderedEmail:
    """Render templates/emails/<template>_{subject.txt,body.txt,body.html} with `context` (plus
    `site_url`). The subject is folded onto one line."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_plain_text(f"emails/{template}_subject.txt", context).split())
    text = render_plain_text(f"emails/{template}_body.txt", context)
    html = render_to_string(f"emails/{template}_body.html", context)
    return RenderedEmail(subject=subject, text=text, html=html)


def email_build(
    template: str,
    *,
    to: Iterable[str],
    context: dict[str, Any],
    attachments: Iterable[tuple[str, bytes | str, str]] = (),
) -> EmailMultiAlternatives:
    """One message rendered by `email_render`, ready to send at once (outside the outbox)."""
    rendered = email_render(template, context)
    message = EmailMultiAlternatives(subject=rendered.subject, body=rendered.text, to=list(to))
    message.attach_alternative(rendered.html, "text/html")
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    return message
