"""The FHIR API's own tables: machine clients, bulk export jobs and the rate limit's buckets."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class ApiClient(models.Model):
    """A machine client (an EPR, a shared-care record, the trial's data platform).

    It authenticates as an OAuth 2.0 application (django-oauth-toolkit, client credentials) and
    acts as `account`: a POD user with a role and team memberships, no usable password and no
    authenticator, so it can never sign in to the web pages. Everything the API shows it is
    therefore decided by the same selectors that decide what a member of staff with that role
    in those teams sees (pod.fhir.access), and its reads are logged under that account.
    """

    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="pod_client"
    )
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client"
    )
    description = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"API client {self.application.name}"


class ExportJob(models.Model):
    """One FHIR Bulk Data `$export` request and its NDJSON files (pod.fhir.bulk)."""

    class Level(models.TextChoices):
        SYSTEM = "system", "System"
        GROUP = "group", "Group (a team)"
        PATIENT = "patient", "Patient"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired (files deleted)"

    # The status URL carries this, not the row id: unguessable, and it names no person.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    level = models.CharField(max_length=10, choices=Level.choices)
    team = models.ForeignKey(
        "pod.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resource_types = ArrayField(models.CharField(max_length=40))
    # `_typeFilter` searches, each "Type?param=value&...", as the client sent them.
    type_filters = ArrayField(models.CharField(max_length=500), default=list, blank=True)
    since = models.DateTimeField(null=True, blank=True)
    request_url = models.CharField(max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.CharField(max_length=200, blank=True)
    # The manifest's transactionTime: the export includes what had changed by then.
    transaction_time = models.DateTimeField(null=True, blank=True)
    # [{"type": "Patient", "file": "Patient.ndjson", "count": 123}, ...] once done.
    output = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written after every chunk: a job whose worker died is taken over once this is stale.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="exportjob_created")]

    def __str__(self) -> str:
        return f"Export {self.public_id} ({self.status})"


class RateBucket(models.Model):
    """A client's token bucket for the rate limit (pod.fhir.rate_limit). No personal data: the
    key is "client:<application id>" or "user:<user id>"."""

    key = models.CharField(max_length=60, unique=True)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key}: {self.tokens:.1f}"
