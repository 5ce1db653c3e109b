"""A person's rights over their record: what a clinician released in a subject-access copy.

Loaded by pod/models.py, like the organisation's models (the `pod` app label). The export itself
is built in pod/records/subject_access.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now


class SubjectAccessInclusion(models.Model):
    """A clinician's decision to release one item of third-party data in a person's
    subject-access copy, with the reason. Without one, the item is left out of the released
    copy (UK GDPR art. 15(4); Data Protection Act 2018 sch. 2 para. 16). Audited."""

    service_user = models.ForeignKey(
        "networks.ServiceUser", on_delete=models.CASCADE, related_name="+"
    )
    # "<app.model>:<pk>:<field>", as pod/records/subject_access.py names each item.
    item = models.CharField(max_length=200)
    reason = models.TextField()
    included_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    included_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["included_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_user", "item"], name="subject_access_inclusion_once"
            ),
            models.CheckConstraint(
                condition=~models.Q(reason=""),
                name="subject_access_inclusion_has_reason",
                violation_error_message="Give the reason for releasing it.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} released"
