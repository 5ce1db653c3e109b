"""Writes of the subject-access release: a clinician includes one piece of third-party data in
the released copy, with the reason. Project wiring, with the export it serves."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from networks.models import ServiceUser
from pod.foundation.justification import reason_refusal
from pod.foundation.models import User
from pod.foundation.rights_models import SubjectAccessInclusion
from pod.records.subject_access import subject_access_data, third_party_items


@transaction.atomic
def subject_access_include_item(
    *, person: ServiceUser, item: str, reason: str, included_by: User
) -> SubjectAccessInclusion:
    """Release `item` (a key from the person's export, pod.records.subject_access.item_key) in
    their released copy. ValidationError when the item is not a third-party value of this
    person's export (nothing else needs including), when the reason is empty, or when it is
    already included. Audited (pod.SubjectAccessInclusion is tracked)."""
    if refusal := reason_refusal(reason, what="The reason for releasing it"):
        raise ValidationError({"reason": refusal})
    marked = {i["item"]: i for i in third_party_items(subject_access_data(person))}
    if item not in marked:
        raise ValidationError("That is not a withheld item of this person's record.")
    if marked[item]["included"]:
        raise ValidationError("That item is already included.")
    inclusion = SubjectAccessInclusion(
        service_user=person, item=item, reason=reason.strip(), included_by=included_by
    )
    inclusion.full_clean()
    inclusion.save()
    return inclusion
