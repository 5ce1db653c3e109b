"""No personal data in any log, tested on the handlers that really run: a started Celery
worker, the development server's request log and the web process's error log, with names,
email addresses, NHS numbers, exception text and tracebacks."""

from __future__ import annotations

import logging
import subprocess
import sys
import urllib.request
import uuid

import pytest
from django.conf import settings as django_settings

from pod.celery import app as celery_app
from pod.devstack.common import ROOT
from pod.foundation.log_filters import RedactingFormatter, RedactPersonalData, redact
from pod.foundation.mail_backends import ConsoleSummaryBackend
from tests.log_task import EMAIL, NAME, NHS_NUMBER
from tests.workers import free_port, port_answers, process_env, start_celery, stop, wait_for

PERSONAL = [NAME, "Jordan", "Rivers", EMAIL, "jordan.rivers", NHS_NUMBER, "9434765919"]


def assert_no_personal_data(output: str) -> None:
    found = [text for text in PERSONAL if text in output]
    assert not found, f"{found} in:\n{output}"


@pytest.mark.hazard("HAZ-10.C6")
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_started_worker_writes_no_personal_data(tmp_path, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    output = tmp_path / "worker.log"
    queue = f"pod-test-{uuid.uuid4().hex[:8]}"
    env = process_env(django_settings.CELERY_BROKER_URL)
    worker = start_celery(
        "worker", env, "-Q", queue, "-l", "info", "--include", "tests.log_task", output=output
    )
    try:
        wait_for(
            lambda: "ready" in output.read_text(), timeout=60, what="the worker", process=worker
        )
        celery_app.send_task("tests.log_task.log_personal_data", queue=queue)
        wait_for(
            lambda: "raised unexpected" in output.read_text(),
            timeout=60,
            what="the task to fail",
            process=worker,
        )
    finally:
        stop(worker)
    text = output.read_text()
    assert_no_personal_data(text)
    # What was written: each line, redacted, and the traceback without exception text.
    assert "contact [name] <[email]>, NHS [number]" in text
    assert "task logger: [name], [email], [number]" in text
    assert "printed: [name] [email] [number]" in text
    assert "Traceback (most recent call last)" in text
    assert "builtins.ValueError: [exception text removed]" in text
    assert "builtins.KeyError: [exception text removed]" in text


@pytest.mark.hazard("HAZ-10.C6")
@pytest.mark.django_db(transaction=True)
def test_the_development_servers_request_log_writes_no_personal_data(tmp_path):
    port = free_port()
    output = tmp_path / "web.log"
    env = process_env(
        django_settings.CELERY_BROKER_URL, ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="0"
    )
    with output.open("wb") as stream:
        web = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: port_answers(port), timeout=60, what="the web server", process=web)
        query = "q=943+476+5919&email=jordan.rivers%40example.org&name=Jordan+Rivers"
        opener = urllib.request.build_opener(NoRedirect)
        response = opener.open(f"http://127.0.0.1:{port}/admin/pod/user/?{query}")
        assert response.status == 302
        wait_for(lambda: "/admin/pod/user/" in output.read_text(), timeout=10, what="the log")
    finally:
        stop(web)
    text = output.read_text()
    assert_no_personal_data(text.replace("%40", "@").replace("+", " "))
    assert '"GET /admin/pod/user/?[query removed] HTTP/1.1" 302' in text


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

    def http_error_302(self, req, fp, code, msg, headers):
        return fp


WEB_ERROR_SCRIPT = """
import django, logging, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pod.settings")
django.setup()  # configures logging from settings.LOGGING, as pod/wsgi.py does
try:
    try:
        raise LookupError("nhs_number=9434765919")
    except LookupError as exc:
        raise RuntimeError("Jordan Rivers <jordan.rivers@example.org> not saved") from exc
except RuntimeError:
    logging.getLogger("django.request").error(
        "Internal Server Error: /episodes/new/", exc_info=True
    )
logging.getLogger("pod.example").error("person %s", "Jordan Rivers", stack_info=True)
"""


@pytest.mark.parametrize("debug", ["0", "1"])  # Django's own handlers differ with DEBUG
@pytest.mark.hazard("HAZ-10.C6")
def test_the_web_process_writes_no_personal_data_in_errors_and_tracebacks(debug):
    result = subprocess.run(
        [sys.executable, "-c", WEB_ERROR_SCRIPT],
        cwd=ROOT,
        env=process_env(django_settings.CELERY_BROKER_URL, DEBUG=debug),
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert_no_personal_data(output)
    assert "ERROR django.request: Internal Server Error: /episodes/new/" in output
    assert "builtins.RuntimeError: [exception text removed]" in output
    assert "builtins.LookupError: [exception text removed]" in output
    assert "ERROR pod.example: person [name]" in output


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("person Jordan Rivers called", "person [name] called"),
        ("Mary O'Neil and Anne-Marie McDonald", "[name] and [name]"),
        ("Internal Server Error: /episodes/4/", "Internal Server Error: /episodes/4/"),
        ("OperationalError Connection refused", "OperationalError Connection refused"),
        (
            "Task meetings.tasks.deliver_alerts[abc] succeeded",
            "Task meetings.tasks.deliver_alerts[abc] succeeded",
        ),
    ],
)
@pytest.mark.hazard("HAZ-10.C6")
def test_it_redacts_name_shaped_words(line, expected):
    assert redact(line) == expected


@pytest.mark.hazard("HAZ-10.C6")
def test_a_message_quoting_its_exception_shows_only_the_exceptions_class():
    try:
        raise ValueError("Jordan Rivers 9434765919")
    except ValueError as exc:
        record = logging.LogRecord(
            "celery.app.trace", logging.ERROR, __file__, 1, "Task x raised: %s", (repr(exc),), None
        )
        record.exc_info = (type(exc), exc, exc.__traceback__)
    RedactPersonalData().filter(record)
    assert record.getMessage() == "Task x raised: ValueError"
    formatted = RedactingFormatter("%(message)s").format(record)
    assert "9434765919" not in formatted and "Jordan" not in formatted
    assert formatted.endswith("builtins.ValueError: [exception text removed]")


@pytest.mark.hazard("HAZ-10.C6")
def test_the_demo_email_backend_writes_one_short_line_per_message(caplog):
    from django.core.mail import EmailMessage

    message = EmailMessage("[POD] Alert", "A long body\nwith many lines", to=["a@example.org"])
    with caplog.at_level(logging.INFO, logger="pod.email"):
        assert ConsoleSummaryBackend().send_messages([message]) == 1
    (record,) = caplog.records
    assert record.getMessage() == (
        "email not sent (demo mode): '[POD] Alert' to 1 recipient; read it in the admin under "
        "Outbox messages"
    )


@pytest.mark.hazard("HAZ-10.C6")
def test_redacting_twice_changes_nothing():
    """A record passes the filter and then the formatter: both redact."""
    line = '"GET /people/?q=Jordan+Rivers HTTP/1.1" jordan@example.org 943 476 5919 Jordan Rivers'
    once = redact(line)
    assert once == '"GET /people/?[query removed] HTTP/1.1" [email] [number] [name]'
    assert redact(once) == once
