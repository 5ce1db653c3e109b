"""Who made a change: the context the audit trigger copies, and its signature.

1. `AuditContextMiddleware` (pghistory's HistoryMiddleware) enters `pghistory.context(...)` for
   every request with the signed-in user, the URL (link tokens replaced) and the time; the
   Celery signal handlers do the same for tasks. pghistory puts the context into every SQL
   statement as a transaction-local setting, and the trigger copies it into the audit row.
2. The claim is signed where the user is known - here, from the authenticated request (and again
   at sign-in, when the request's user changes) or the task being run: `sig` is an HMAC of the
   rest of the context under a key derived from SECRET_KEY. The database never sees the key.
3. A context that names a user without a matching signature - code calling
   `pghistory.context(user=<someone else>)`, or SQL that sets the setting by hand with the
   application's database credentials - is still recorded as claimed, and `audit_verify` and
   the admin's audit list show it as unverified. The trigger also records the database login
   role (`db_user`) from the server itself, which no context can change.

What this does not do: stop code running inside the application process, which holds
SECRET_KEY, from signing a false claim. The signature separates the application's own account
of who acted from anything written around it; the database role separates the application from
everyone else (README "Security").
"""

from __future__ import annotations

import json
import time
import uuid
from contextlib import ExitStack
from typing import Any

import pghistory
import pghistory.runtime
from celery.signals import task_postrun, task_prerun
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest
from django.urls import Resolver404, resolve
from django.utils.crypto import constant_time_compare, salted_hmac
from pghistory.middleware import HistoryMiddleware

SIGNATURE_KEY = "sig"
_SALT = "pod.audit.context"


def _canonical(context: dict[str, Any]) -> str:
    claim = {k: v for k, v in context.items() if k != SIGNATURE_KEY}
    return json.dumps(claim, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)


def context_signature(context: dict[str, Any]) -> str:
    """The HMAC-SHA256 (hex) of a context's claim: every key but the signature, canonical JSON."""
    return salted_hmac(_SALT, _canonical(context), algorithm="sha256").hexdigest()


def signed(**claim: Any) -> dict[str, Any]:
    """The context to enter: the one already active (if any) updated with `claim`, a fresh
    nonce and the signature of the whole, ready for `pghistory.context(**...)`.

    pghistory merges a nested `context(...)` into the active one (a task run eagerly inside a
    request, the user changing at sign-in), so the signature must cover the merged claim. Reads
    pghistory's thread-local (`pghistory.runtime._tracker`, django-pghistory 3.9).
    """
    active = getattr(pghistory.runtime._tracker, "value", None)
    context = dict(active.metadata) if active is not None else {}
    context.pop(SIGNATURE_KEY, None)
    context.update(claim, nonce=uuid.uuid4().hex)
    context[SIGNATURE_KEY] = context_signature(context)
    return context


def context_is_verified(context: dict[str, Any] | None) -> bool | None:
    """True when the recorded context carries a valid signature of what it claims; False when it
    claims someone (a user or a task) without one; None when it claims no one (a change made
    outside the application: `db_user` says who)."""
    if not context or not (context.get("user") is not None or context.get("task")):
        return None
    signature = context.get(SIGNATURE_KEY)
    return isinstance(signature, str) and constant_time_compare(
        signature, context_signature(context)
    )


class AuditContextMiddleware(HistoryMiddleware):
    """pghistory's HistoryMiddleware, with link tokens kept out of the URL and the claim signed.

    The audit keeps the path of the request that made a change. A survey link or password-reset
    link carries its token in the path; the token is replaced so the audit cannot be used to
    open someone's survey.
    """

    SECRET_PARAMETERS = ("token", "uidb64")

    def get_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().get_context(request)
        try:
            kwargs = resolve(request.path_info).kwargs
        except Resolver404:
            kwargs = {}
        for name in self.SECRET_PARAMETERS:
            value = kwargs.get(name)
            if isinstance(value, str) and value:
                context["url"] = context["url"].replace(value, f"<{name}>")
        return signed(**context, ts=int(time.time()))


def resign_on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Signing in changes the request's user mid-request (pghistory follows `request.user`):
    sign the new claim, so the sign-in's own writes are attributed and verified."""
    if request is None:
        return
    url = request.path
    pghistory.context(**signed(user=user.pk, url=url, ts=int(time.time())))


# --- Celery: attribute task writes to the task ------------------------------------------------
# task id -> the pghistory context entered for it, left when the task has run.
_task_contexts: dict[str, ExitStack] = {}


def _task_prerun(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    entered = ExitStack()
    claim = signed(task=getattr(task, "name", "task"), task_id=task_id, ts=int(time.time()))
    entered.enter_context(pghistory.context(**claim))
    _task_contexts[task_id or ""] = entered


def _task_postrun(task_id: str | None = None, **kwargs: Any) -> None:
    entered = _task_contexts.pop(task_id or "", None)
    if entered is not None:
        entered.close()


def connect_celery_signals() -> None:
    task_prerun.connect(_task_prerun, weak=False, dispatch_uid="pod_audit_prerun")
    task_postrun.connect(_task_postrun, weak=False, dispatch_uid="pod_audit_postrun")
