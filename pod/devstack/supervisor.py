"""Children run together: output prefixed with their name, stopped as one, and gone with us."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from typing import IO

from pod.devstack.common import ROOT, say

STOP_GRACE_SECONDS = 10.0

_PRCTL = ctypes.CDLL(None).prctl if sys.platform == "linux" else None


def _die_with_supervisor() -> None:
    """Between fork and exec: SIGTERM this child when we die, even by SIGKILL (Linux only)."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class Supervisor:
    """Runs named children together, prefixes their output, stops them all as one."""

    COLOURS = ("36", "33", "35", "32", "34")

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.children: list[tuple[str, subprocess.Popen[str], threading.Thread]] = []
        self.print_lock = threading.Lock()

    def spawn(self, name: str, argv: list[str]) -> None:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True,
            preexec_fn=_die_with_supervisor,
        )  # fmt: skip
        colour = self.COLOURS[len(self.children) % len(self.COLOURS)]
        prefix = f"{name:<8} | "
        if sys.stdout.isatty():
            prefix = f"\033[{colour}m{prefix}\033[0m"
        pump = threading.Thread(target=self._pump, args=(prefix, process.stdout), daemon=True)
        pump.start()
        self.children.append((name, process, pump))

    def _pump(self, prefix: str, stream: IO[str]) -> None:
        for line in stream:
            with self.print_lock:
                sys.stdout.write(prefix + line.rstrip("\n") + "\n")
                sys.stdout.flush()

    def exited(self) -> tuple[str, int] | None:
        """The name and exit code of the first child that has exited, if any."""
        for name, process, _ in self.children:
            if process.poll() is not None:
                return name, process.returncode
        return None

    def stop_all(self) -> None:
        if self.children:
            say("stopping " + ", ".join(name for name, _, _ in self.children))
        for _, process, _ in self.children:
            self._signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, process, pump in self.children:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop within {STOP_GRACE_SECONDS:.0f} s: killing it")
            # Also kills stragglers in the group: runserver's reloaded child, Celery pool workers.
            self._signal_group(process, signal.SIGKILL)
            process.wait()
            pump.join(timeout=1)

    @staticmethod
    def _signal_group(process: subprocess.Popen[str], signum: int) -> None:
        try:
            os.killpg(process.pid, signum)  # start_new_session: the group id is the child's pid
        except (ProcessLookupError, PermissionError):
            pass
