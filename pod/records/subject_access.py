"""Subject access: everything POD holds about one person, for review and for release.

1. Start from the ServiceUser row.
2. Follow every reverse foreign key (one-to-many and one-to-one) from it, and from what that
   reaches, down to MAX_DEPTH: episodes -> meetings -> participants, words, decisions ... . The
   walk is generic on purpose, so a table another app adds next month (a new measure, a survey
   answer) is included without anyone remembering to list it here. It goes a level at a time,
   one query per kind of record and relation (many-to-many values prefetched), and staff names
   are read in one query at the end: the number of queries does not grow with the record.
3. Add the access log: who has looked at the record (UK GDPR art. 15 includes recipients).
4. Each row becomes {field label: readable value}; choices show their label, links to staff
   show their name, other links the kind of record and its number; secrets (tokens, keys) are
   left out.
5. Third-party data is marked (THIRD_PARTY): other people's contact details, the reasons the
   person gave for not inviting someone, the details entered at a referral that may be someone
   else's, and the names of staff who rated a meeting's fidelity. The person is entitled to
   their own data; someone else's needs review (UK GDPR art. 15(4); Data Protection Act 2018
   sch. 2 part 3 para. 16). The released copy (`released`) leaves each marked item out unless a
   clinician included it with a reason (pod.SubjectAccessInclusion, audited).
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone

from pod.foundation.audit_models import RecordAccess
from pod.foundation.rights_models import SubjectAccessInclusion

MAX_DEPTH = 4
# Tables that are not about the person (bookkeeping) or are added separately below.
SKIPPED_MODELS = {"pod.auditevent", "pod.recordaccess", "pod.notification"}
# Field names never exported: they are keys to something, not information about the person.
SECRET_FIELD_WORDS = ("token", "secret", "key", "password")
# Derived columns that repeat what is already shown.
SKIPPED_FIELDS = {("networks.serviceuser", "search_name")}

_CONTACT = "Someone else's contact details"
_NOT_INVITED = "The person's reason for not inviting someone else"
_ENTERED = "Details entered at a referral, which may be someone else's"
# (model label, field name) -> why it is held back for review.
THIRD_PARTY: dict[tuple[str, str], str] = {
    ("networks.networkmember", "phone"): _CONTACT,
    ("networks.networkmember", "email"): _CONTACT,
    ("networks.networkmember", "address"): _CONTACT,
    ("networks.networkmember", "not_invited_reason"): _NOT_INVITED,
    ("meetings.participant", "not_invited_reason"): _NOT_INVITED,
    ("networks.identityconfirmation", "entered_given_name"): _ENTERED,
    ("networks.identityconfirmation", "entered_family_name"): _ENTERED,
    ("networks.identityconfirmation", "entered_date_of_birth"): _ENTERED,
    ("outcomes.fidelityrating", "rater"): "The name of the member of staff who rated a meeting",
}
WITHHELD = "[withheld: information about someone else]"


def item_key(obj: models.Model, field_name: str) -> str:
    """The stable name of one value in the export: "<app.model>:<pk>:<field>"."""
    return f"{obj._meta.label_lower}:{obj.pk}:{field_name}"


def _label(text: Any) -> str:
    text = str(text)
    return text[:1].upper() + text[1:]


def _is_secret(field: models.Field) -> bool:
    return any(word in field.name.lower() for word in SECRET_FIELD_WORDS)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (timedelta, Decimal)):
        return str(value)
    return value


class _Walk:
    """One export: the rows found, and the staff they name (read in one query at the end)."""

    def __init__(self, person: models.Model) -> None:
        self.person = person
        self.user_model = get_user_model()
        self.staff_ids: set[int] = set()
        self.found: list[models.Model] = []

    def walk(self) -> OrderedDict[str, list[models.Model]]:
        sections: OrderedDict[str, list[models.Model]] = OrderedDict()
        seen: set[tuple[str, Any]] = {(self.person._meta.label_lower, self.person.pk)}
        frontier: dict[type[models.Model], list[models.Model]] = {type(self.person): [self.person]}
        for _ in range(MAX_DEPTH):
            next_frontier: dict[type[models.Model], list[models.Model]] = defaultdict(list)
            for model, parents in frontier.items():
                ids = [p.pk for p in parents]
                for rel in _reverse_relations(model):
                    child_model = rel.related_model
                    children = child_model._default_manager.filter(
                        **{f"{rel.field.name}__in": ids}
                    ).order_by("pk")
                    many = [f.name for f in child_model._meta.many_to_many]
                    if many:
                        children = children.prefetch_related(*many)
                    for child in children:
                        key = (child._meta.label_lower, child.pk)
                        if key in seen:
                            continue
                        seen.add(key)
                        sections.setdefault(_label(child_model._meta.verbose_name_plural), [])
                        sections[_label(child_model._meta.verbose_name_plural)].append(child)
                        next_frontier[child_model].append(child)
                        self._note_staff(child)
            frontier = next_frontier
        self._note_staff(self.person)
        return sections

    def _note_staff(self, obj: models.Model) -> None:
        for field in obj._meta.concrete_fields:
            if isinstance(field, models.ForeignKey) and field.related_model is self.user_model:
                value = getattr(obj, field.attname)
                if value is not None:
                    self.staff_ids.add(value)

    def staff_names(self) -> dict[int, str]:
        return {
            u.pk: str(u) for u in self.user_model._default_manager.filter(pk__in=self.staff_ids)
        }


def _reverse_relations(model: type[models.Model]):
    for rel in model._meta.related_objects:
        if rel.many_to_many or rel.related_model._meta.auto_created:
            continue
        if rel.related_model._meta.label_lower in SKIPPED_MODELS:
            continue
        yield rel


def _readable(obj: models.Model, field: models.Field, person_pk: Any, staff: dict[int, str]):
    if field.choices:
        return getattr(obj, f"get_{field.name}_display")()
    value = getattr(obj, field.attname)
    if isinstance(field, models.ForeignKey):
        if value is None:
            return None
        target = field.related_model
        if target is get_user_model():
            return staff.get(value, f"account {value}")
        if target._meta.label_lower == "networks.serviceuser":
            return "This person" if value == person_pk else f"Person {value}"
        return f"{_label(target._meta.verbose_name)} {value}"
    return _plain(value)


def _record(obj: models.Model, person_pk: Any, staff: dict[int, str]) -> dict[str, Any]:
    """{"id", "fields": {label: value}, "third_party": {label: {"item", "why"}}}."""
    label = obj._meta.label_lower
    fields: OrderedDict[str, Any] = OrderedDict()
    third_party: dict[str, dict[str, str]] = {}
    for field in obj._meta.concrete_fields:
        if _is_secret(field) or (label, field.name) in SKIPPED_FIELDS:
            continue
        name = _label(field.verbose_name)
        fields[name] = _readable(obj, field, person_pk, staff)
        why = THIRD_PARTY.get((label, field.name))
        if why and fields[name] not in (None, ""):
            third_party[name] = {"item": item_key(obj, field.name), "why": why}
    for field in obj._meta.many_to_many:
        fields[_label(field.verbose_name)] = [str(o) for o in getattr(obj, field.name).all()]
    return {"id": f"{label}:{obj.pk}", "fields": fields, "third_party": third_party}


def subject_access_data(person: models.Model) -> dict[str, Any]:
    """Everything held about `person`, grouped by kind of record, with third-party values
    marked and each clinician's inclusion (with its reason) attached, ready for the review page,
    `released` and JSON. A fixed number of queries, whatever the size of the record."""
    walk = _Walk(person)
    sections = walk.walk()
    staff = walk.staff_names()
    inclusions = {
        i.item: {"reason": i.reason, "by": str(i.included_by), "at": _plain(i.included_at)}
        for i in SubjectAccessInclusion.objects.filter(service_user_id=person.pk).select_related(
            "included_by"
        )
    }
    out_sections = []
    for title, rows in sections.items():
        records = [_record(row, person.pk, staff) for row in rows]
        for record in records:
            for mark in record["third_party"].values():
                mark["included"] = inclusions.get(mark["item"])
        out_sections.append({"title": title, "records": records})
    looks = RecordAccess.objects.filter(service_user_id=person.pk).select_related("user")
    out_sections.append(
        {
            "title": "Who has looked at the record",
            "records": [
                {
                    "id": f"pod.recordaccess:{a.pk}",
                    "fields": {
                        "When": _plain(a.at),
                        "Who": str(a.user) if a.user else f"account {a.user_id}",
                        "What": a.what,
                    },
                    "third_party": {},
                }
                for a in looks
            ],
        }
    )
    own = _record(person, person.pk, staff)
    return {
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "person": own["fields"],
        "sections": out_sections,
    }


def third_party_items(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every marked value: {"section", "record", "label", "value", "item", "why", "included"}."""
    items = []
    for section in data["sections"]:
        for record in section["records"]:
            for label, mark in record["third_party"].items():
                items.append(
                    {
                        "section": section["title"],
                        "record": record["id"],
                        "label": label,
                        "value": record["fields"][label],
                        **mark,
                    }
                )
    return items


def released(data: dict[str, Any]) -> dict[str, Any]:
    """The copy given to the person: every third-party value left out (WITHHELD) unless a
    clinician included it with a reason. Nothing else changes; no marks are left in it."""
    sections = []
    for section in data["sections"]:
        records = []
        for record in section["records"]:
            fields = dict(record["fields"])
            for label, mark in record["third_party"].items():
                if not mark.get("included"):
                    fields[label] = WITHHELD
            records.append(fields)
        sections.append({"title": section["title"], "records": records})
    return {"generated_at": data["generated_at"], "person": data["person"], "sections": sections}


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
    """The review data with every value as readable text, for the HTML page: each record is
    {"id", "fields": {label: (text, mark or None)}}."""
    return {
        **data,
        "person": {k: _display(v) for k, v in data["person"].items()},
        "sections": [
            {
                "title": s["title"],
                "records": [
                    {
                        "id": r["id"],
                        "fields": {
                            k: (_display(v), r["third_party"].get(k))
                            for k, v in r["fields"].items()
                        },
                    }
                    for r in s["records"]
                ],
            }
            for s in data["sections"]
        ],
    }


def released_display(data: dict[str, Any]) -> dict[str, Any]:
    """The released copy with every value as readable text (the printable page)."""
    copy = released(data)
    return {
        **copy,
        "person": {k: _display(v) for k, v in copy["person"].items()},
        "sections": [
            {
                "title": s["title"],
                "records": [{k: _display(v) for k, v in r.items()} for r in s["records"]],
            }
            for s in copy["sections"]
        ],
    }
