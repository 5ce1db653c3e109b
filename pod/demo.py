"""The demo logins, in one place: `manage.py demo_data` creates them and `make run` prints them.

Wiring, not foundation: plain data that the dev stack reads before Django is set up, so it
imports nothing from Django. Demo users exist only in demo data, never in migrations.
"""

from __future__ import annotations

DEMO_PASSWORD = "pod-demo-2026"

# (username, role value of pod.foundation.models.User.Role, first name, last name, profession)
DEMO_LOGINS: list[tuple[str, str, str, str, str]] = [
    ("clinician", "clinician", "Chris", "Okafor", "Nurse"),
    ("prescriber", "prescriber", "Priya", "Shah", "Psychiatrist"),
    ("peerworker", "peer_worker", "Pat", "Doyle", "Peer support worker"),
    ("volunteer", "peer_volunteer", "Vic", "Mensah", "Peer volunteer"),
    ("manager", "service_manager", "Morgan", "Ellis", "Service manager"),
    ("admin", "administrator", "Ada", "Admin", "System administrator"),
]
