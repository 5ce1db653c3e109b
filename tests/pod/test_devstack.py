"""The embedded PostgreSQL's placement when `make run` / `make test` run as root (pod/devstack.py).

PostgreSQL runs as the system user pod-postgres, which must walk down to the binaries and the
data; a checkout in a folder closed to others moves both to /var/lib/pod-devstack instead."""

from pathlib import Path

from pod.devstack import outside_home, reachable_by_others


def test_a_folder_closed_to_others_is_not_reachable(tmp_path):
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    closed.chmod(0o700)
    assert not reachable_by_others(closed / "var" / "postgres")


def test_system_folders_open_to_all_are_reachable():
    # /, /usr and /usr/lib are o+x on every Debian machine; the path itself need not exist.
    assert reachable_by_others(Path("/usr/lib/pod-not-here/postgres"))


def test_each_checkout_gets_its_own_folder_under_var_lib():
    one, other = outside_home(Path("/root/pod")), outside_home(Path("/root/pod-2"))
    assert one.parent == Path("/var/lib/pod-devstack")
    assert one != other
    assert outside_home(Path("/root/pod")) == one
