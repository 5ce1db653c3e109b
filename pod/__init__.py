# The Celery app is loaded here so that @shared_task binds to it in every Django process
# (web, worker, management commands) and `.delay()` goes to the configured broker.
from pod.celery import app as celery_app

__all__ = ["celery_app"]
