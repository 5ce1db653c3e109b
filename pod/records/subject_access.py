"""Subject access: everything POD holds about one person, as a readable document and as JSON.

1. Start from the ServiceUser row.
2. Follow every reverse foreign key (one-to-many and one-to-one) from it, and from what that
   reaches, down to MAX_DEPTH: episodes -> meetings -> participants, words, decisions ... . The
   walk is generic on purpose, so a table another app adds next month (a new measure, a survey
   answer) is included without anyone remembering to list it here.
3. Add the access log: who has looked at the record (UK GDPR art. 15 includes recipients).
4. Each row becomes {field label: readable value}; choices show their label, links show the
   linked row's name, secrets (tokens, keys) are left out.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone

from pod.foundation.audit_models import RecordAccess

MAX_DEPTH = 4
# Tables that are not about the person (bookkeeping) or are added separately below.
SKIPPED_MODELS = {"pod.auditevent", "pod.recordaccess", "pod.notification"}
# Field names never exported: they are keys to something, not information about the person.
SECRET_FIELD_WORDS = ("token", "secret", "key", "password")


def _readable(obj: models.Model, field: models.Field) -> Any:
    if field.choices:
        return getattr(obj, f"get_{field.name}_display")()
    value = getattr(obj, field.attname)
    if isinstance(field, models.ForeignKey):
        related = getattr(obj, field.name)
        return str(related) if related is not None else None
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _is_secret(field: models.Field) -> bool:
    return any(word in field.name.lower() for word in SECRET_FIELD_WORDS)


def _label(text: Any) -> str:
    text = str(text)
    return text[:1].upper() + text[1:]


def _row(obj: models.Model) -> OrderedDict:
    row: OrderedDict[str, Any] = OrderedDict()
    for field in obj._meta.concrete_fields:
        if _is_secret(field):
            continue
        row[_label(field.verbose_name)] = _readable(obj, field)
    for field in obj._meta.many_to_many:
        row[_label(field.verbose_name)] = [str(o) for o in getattr(obj, field.name).all()]
    return row


def _reverse_relations(model: type[models.Model]):
    for rel in model._meta.related_objects:
        if rel.many_to_many or rel.related_model._meta.auto_created:
            continue
        if rel.related_model._meta.label_lower in SKIPPED_MODELS:
            continue
        yield rel


def subject_access_data(person) -> dict[str, Any]:
    """Everything held about `person`, grouped by kind of record, ready for HTML or JSON."""
    sections: OrderedDict[str, list] = OrderedDict()
    seen: set[tuple[str, Any]] = {(person._meta.label_lower, person.pk)}
    frontier: list[models.Model] = [person]
    for _ in range(MAX_DEPTH):
        next_frontier = []
        for obj in frontier:
            for rel in _reverse_relations(type(obj)):
                if rel.one_to_one:
                    related = getattr(obj, rel.get_accessor_name(), None)
                    children = [related] if related is not None else []
                else:
                    children = list(getattr(obj, rel.get_accessor_name()).all())
                for child in children:
                    key = (child._meta.label_lower, child.pk)
                    if key in seen:
                        continue
                    seen.add(key)
                    title = _label(child._meta.verbose_name_plural)
                    sections.setdefault(title, []).append(_row(child))
                    next_frontier.append(child)
        frontier = next_frontier

    looks = RecordAccess.objects.filter(service_user_id=person.pk).select_related("user")
    sections["Who has looked at the record"] = [
        {
            "When": timezone.localtime(a.at).isoformat(timespec="minutes"),
            "Who": str(a.user) if a.user else f"account {a.user_id}",
            "What": a.what,
        }
        for a in looks
    ]
    return {
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "person": _row(person),
        "sections": [{"title": t, "records": rows} for t, rows in sections.items()],
    }


def _display(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def as_display(data: dict[str, Any]) -> dict[str, Any]:
    """The same data with every value as readable text, for the HTML document."""
    return {
        **data,
        "person": {k: _display(v) for k, v in data["person"].items()},
        "sections": [
            {
                "title": s["title"],
                "records": [{k: _display(v) for k, v in r.items()} for r in s["records"]],
            }
            for s in data["sections"]
        ],
    }
