"""Django loads each app's models from `<app>.models`; the `pod` app's live in the foundation.

Import them from pod.foundation.models and pod.foundation.audit_models, never from here. This
module only makes Django register them under the `pod` label (its migrations and AUTH_USER_MODEL
"pod.User" stay as they are).
"""

from pod.foundation.audit_models import AuditEvent, RecordAccess
from pod.foundation.models import (
    FormSubmission,
    Notification,
    SweepHeartbeat,
    Team,
    TeamMembership,
    TrainingRecord,
    Trust,
    User,
)
from pod.foundation.outbox_models import OutboxMessage
from pod.foundation.rights_models import SubjectAccessInclusion

__all__ = [
    "AuditEvent",
    "FormSubmission",
    "Notification",
    "OutboxMessage",
    "RecordAccess",
    "SweepHeartbeat",
    "SubjectAccessInclusion",
    "Team",
    "TeamMembership",
    "TrainingRecord",
    "Trust",
    "User",
]
