"""The Celery app. Workers start with `celery -A pod worker`, beat with `celery -A pod beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pod.settings")

app = Celery("pod")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
