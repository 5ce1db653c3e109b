"""A Celery task that logs personal data every way a task can, for the log-privacy test
(tests/pod/test_log_privacy.py). Only a worker started with `--include tests.log_task` has it."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.utils.log import get_task_logger

NAME = "Jordan Rivers"
EMAIL = "jordan.rivers@example.org"
NHS_NUMBER = "943 476 5919"


@shared_task(name="tests.log_task.log_personal_data")
def log_personal_data() -> None:
    logging.getLogger("pod.example").warning("contact %s <%s>, NHS %s", NAME, EMAIL, NHS_NUMBER)
    get_task_logger(__name__).warning("task logger: %s, %s, %s", NAME, EMAIL, NHS_NUMBER)
    print(f"printed: {NAME} {EMAIL} {NHS_NUMBER.replace(' ', '')}")
    try:
        raise KeyError(f"no such person {NHS_NUMBER}")
    except KeyError as exc:
        raise ValueError(f"could not find {NAME} ({EMAIL})") from exc
