"""What every part of the dev stack shares: the checkout's paths, messages, ports."""

from __future__ import annotations

import importlib.util
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var"
PYTHON = sys.executable


def say(message: str) -> None:
    print(f"{'devstack':<8} | {message}", flush=True)


def fail(message: str) -> SystemExit:
    """`raise fail("...")`: exit 1 printing `devstack | message` on stderr, no traceback."""
    return SystemExit(f"{'devstack':<8} | {message}")


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SystemExit(f"package {name} is missing: run `make run` to install requirements.txt")
    return Path(spec.origin).parent


def pick_port(preferred: int) -> int:
    """The preferred port when nothing listens on it, else any free port on 127.0.0.1."""
    for candidate in (preferred, 0):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise SystemExit("no free TCP port on 127.0.0.1")


def port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def shown(path: Path) -> str:
    """A path as the user should read it: relative to the checkout when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
