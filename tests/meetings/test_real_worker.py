"""A real Celery worker, on the configured Redis broker, runs the sweep against the test DB."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from meetings.models import Alert
from meetings.tasks import first_meeting_sweep
from tests import factories as f


@pytest.mark.hazard("HAZ-01.C1")
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_raises_the_breach(team, clinician, clinician2, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    episode = f.make_episode(
        team=team,
        core_team=[clinician, clinician2],
        referral_received_at=timezone.now() - timedelta(hours=25),
        now=timezone.now() - timedelta(hours=25),
    )
    queue = f"pod-test-{uuid.uuid4().hex[:8]}"  # keeps any other worker off this message
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "pod",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "warning",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        first_meeting_sweep.apply_async(queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if Alert.objects.filter(episode=episode, kind="breached").exists():
                break
            if worker.poll() is not None:
                break
            time.sleep(0.5)
        assert Alert.objects.filter(episode=episode, kind="breached").exists(), (
            worker.stdout.read().decode() if worker.poll() is not None else "worker gave no alert"
        )
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
