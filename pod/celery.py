"""The Celery app. Workers start with `celery -A pod worker`, beat with `celery -A pod beat`.

Logging: settings.LOGGING configures the root logger (CELERY_WORKER_HIJACK_ROOT_LOGGER is off),
and once Celery has set up a worker's or beat's logging, adding handlers of its own (the task
logger's, the multiprocessing logger's), the log scrubber is put on every handler there is
(pod/foundation/log_filters.py), so no process writes a line it has not seen.
"""

import os
from typing import Any

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

from pod.foundation.log_filters import redact_every_handler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pod.settings")

app = Celery("pod")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect(weak=False, dispatch_uid="pod_redact_logger")
@after_setup_task_logger.connect(weak=False, dispatch_uid="pod_redact_task_logger")
def _redact_celery_handlers(**kwargs: Any) -> None:
    redact_every_handler()
