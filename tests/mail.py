"""Mail for tests: a small SMTP server on a thread, and an email backend that writes each message
to a file (so a test can count what another process sent) and can kill its own process after
the Nth message, between the mail server's acceptance and the outbox's record of it.

The file backend is configured through the environment, so a Celery worker started by a test
uses it: EMAIL_BACKEND=tests.mail.FileLogBackend, POD_TEST_MAIL_LOG=<path>, and optionally
POD_TEST_KILL_AFTER=<n> (SIGKILL after the nth message has been written).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from collections import Counter
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class FileLogBackend(BaseEmailBackend):
    """Appends one JSON line per message (to, subject, Message-ID) to $POD_TEST_MAIL_LOG."""

    sent_by_this_process = 0

    def send_messages(self, email_messages):
        path = Path(os.environ["POD_TEST_MAIL_LOG"])
        kill_after = int(os.environ.get("POD_TEST_KILL_AFTER", "0"))
        for message in email_messages:
            line = json.dumps(
                {
                    "to": message.to,
                    "subject": message.subject,
                    "message_id": message.extra_headers.get("Message-ID", ""),
                }
            )
            with path.open("a") as log:
                log.write(line + "\n")
                log.flush()
                os.fsync(log.fileno())
            FileLogBackend.sent_by_this_process += 1
            if kill_after and FileLogBackend.sent_by_this_process >= kill_after:
                # The mail server has the message; the worker dies before recording it.
                os.kill(os.getpid(), signal.SIGKILL)
        return len(email_messages)


def mail_log(path: Path) -> list[dict]:
    """The messages FileLogBackend wrote to `path`."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def copies_per_message(path: Path) -> Counter:
    """(recipient, subject) -> how many copies were sent."""
    return Counter((tuple(m["to"]), m["subject"]) for m in mail_log(path))


class SMTPServer:
    """Just enough SMTP for Django's backend: accepts every message and answers DATA with
    "250 2.0.0 Ok: queued as <n>". `messages` holds the raw messages received."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.messages: list[bytes] = []
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                self._session(conn.makefile("rwb"))

    def _session(self, stream) -> None:
        def say(line: str) -> None:
            stream.write(line.encode() + b"\r\n")
            stream.flush()

        say("220 test-smtp ready")
        while True:
            line = stream.readline()
            if not line:
                return
            command = line.decode().strip().upper()
            if command.startswith(("EHLO", "HELO")):
                say("250 test-smtp")
            elif command.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                say("250 OK")
            elif command == "DATA":
                say("354 go on")
                data = b""
                while (chunk := stream.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.messages.append(data)
                say(f"250 2.0.0 Ok: queued as Q{len(self.messages)}")
            elif command == "QUIT":
                say("221 bye")
                return
            else:
                say("502 not implemented")

    def stop(self) -> None:
        self._stop = True
        self.sock.close()
        self.thread.join(timeout=5)
