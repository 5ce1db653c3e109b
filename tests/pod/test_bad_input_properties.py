"""Generated input at every form and at the outcomes import: never a 500, never a partial save.

The oracle for "never a partial save" is the audit trail itself: every write to a clinical
table leaves a pod.AuditEvent row (pod/foundation/audit.py), so a request that answers with the
form again (refused input) must have left no audit rows at all. A request that redirects
(accepted input) may write. Each generated example runs in its own savepoint, rolled back
afterwards, so examples do not see each other's data.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meetings.services.meetings import meeting_record_held, meeting_schedule
from networks.models import PeerAssignment
from outcomes.models import OutcomeAssessment
from outcomes.rules import IMPORT_COLUMN_NAMES
from outcomes.services import survey_invitation_issue
from pod.foundation.audit_models import AuditEvent
from tests import factories as f
from tests.outcomes.import_helpers import HEADER, A, row, run_import, submit

pytestmark = pytest.mark.django_db(transaction=False)

HYPOTHESIS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure is reproducible, not flaky
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values that break careless code: empty, whitespace, NUL (PostgreSQL refuses it in text),
# huge, negative, non-ASCII, markup, SQL, dates in odd shapes, ids that do not exist.
NASTY = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "0",
        "-1",
        "1",
        "2",
        "99999999999999999999",
        "1e309",
        "NaN",
        "yes",
        "on",
        "true",
        "2026-02-30",
        "2026-03-02T25:61",
        "2026-03-02 09:00",
        "31/12/2026",
        "9434765919",
        "943 476 5919",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "é" * 300,
        "x" * 5000,
        "\u202e",
        "\ud7ff",
        "home",
        "phone",
        "support",
        "family",
        "care",
        "moderate",
    ]
)
VALUE = st.one_of(NASTY, st.text(max_size=40), st.integers(-(10**6), 10**12).map(str))


@pytest.fixture
def world(team, episode, service_user, clinician, prescriber, peer_worker, manager, referral_at):
    member = f.make_member(service_user, name="Sky")
    meeting = meeting_schedule(
        episode=episode,
        scheduled_start=referral_at + timedelta(hours=3),
        scheduled_end=referral_at + timedelta(hours=4),
        location="home",
        staff=[clinician],
        network_members=[member],
        created_by=clinician,
        now=referral_at + timedelta(hours=1),
    )
    held = meeting_schedule(
        episode=episode,
        scheduled_start=referral_at + timedelta(hours=1),
        scheduled_end=referral_at + timedelta(hours=2),
        location="home",
        staff=[clinician],
        network_members=[member],
        created_by=clinician,
        now=referral_at + timedelta(minutes=30),
    )
    meeting_record_held(
        meeting=held,
        actual_start=referral_at + timedelta(hours=1),
        actual_end=referral_at + timedelta(hours=2),
        attended={p.pk: True for p in held.participants.all()},
        recorded_by=clinician,
        now=referral_at + timedelta(hours=2),
    )
    PeerAssignment.objects.create(
        service_user=service_user, peer=peer_worker, assigned_by=clinician, assigned_at=referral_at
    )
    proposed = f.make_member(service_user, name="Proposed neighbour", status="proposed")
    _, survey_token = survey_invitation_issue(
        service_user=service_user, issued_by=clinician, now=timezone.now()
    )
    f.make_service_user(team, nhs_number=A)
    import_job = submit(HEADER + row(A), team, user=manager)
    return {
        "import_job": import_job.pk,
        "proposed": proposed.pk,
        "token": survey_token,
        "clinician": clinician,
        "prescriber": prescriber,
        "peer_worker": peer_worker,
        "manager": manager,
        "e": episode.pk,
        "m": meeting.pk,
        "held": held.pk,
        "p": service_user.pk,
        "member": member.pk,
        "team": team.pk,
    }


# (who posts, URL template). Every page with a form that writes, from tests/pod/access_matrix.py.
# "A from B": the form posts to A but is shown on page B (POST-only endpoints).
FORM_PAGES = [
    ("clinician", "/episodes/new/"),
    ("clinician", "/episodes/{e}/meetings/new/"),
    ("clinician", "/episodes/{e}/meetings/daily/"),
    ("clinician", "/episodes/{e}/meetings/{m}/held/"),
    ("clinician", "/episodes/{e}/meetings/{m}/cancel/"),
    ("clinician", "/episodes/{e}/meetings/{m}/reschedule/"),
    ("clinician", "/episodes/{e}/meetings/{held}/correct/"),
    ("clinician", "/episodes/{e}/meetings/{held}/utterances/ from /episodes/{e}/meetings/{held}/"),
    ("clinician", "/episodes/{e}/meetings/{held}/decisions/ from /episodes/{e}/meetings/{held}/"),
    ("clinician", "/episodes/{e}/care-plan/"),
    ("prescriber", "/episodes/{e}/prescribe/"),
    ("clinician", "/episodes/{e}/medication/"),
    ("clinician", "/episodes/{e}/close/"),
    ("clinician", "/network/people/{p}/members/add/"),
    ("clinician", "/network/people/{p}/members/{member}/edit/"),
    ("clinician", "/network/people/{p}/members/{member}/end/"),
    ("clinician", "/network/people/{p}/peers/"),
    ("peer_worker", "/network/peer/people/{p}/contacts/add/"),
    ("peer_worker", "/network/peer/people/{p}/members/propose/"),
    ("clinician", "/outcomes/people/{p}/measures/licensed/new/"),
    ("clinician", "/outcomes/people/{p}/measures/PHQ9/new/"),
    ("clinician", "/outcomes/people/{p}/assessments/new/"),
    ("clinician", "/outcomes/people/{p}/survey/"),
    ("clinician", "/security/two-factor/set-up/"),
    ("clinician", "/network/people/{p}/members/{proposed}/consent/"),
    ("clinician", "/outcomes/meetings/{held}/fidelity/"),
    ("clinician", "/outcomes/survey/{token}/"),
    ("manager", "/outcomes/import/"),
    ("manager", "/outcomes/import/{import_job}/run/ from /outcomes/import/{import_job}/"),
]


def _field_names(html: str) -> list[str]:
    names = re.findall(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', html)
    return sorted({n for n in names if n not in ("csrfmiddlewaretoken", "next")})


def _audit_rows() -> int:
    return AuditEvent.objects.count()


@pytest.mark.hazard("HAZ-07.C4")
@pytest.mark.parametrize(("who", "url_template"), FORM_PAGES, ids=[u for _, u in FORM_PAGES])
def test_it_never_fails_or_half_saves_whatever_a_form_receives(world, who, url_template):
    url, _, shown_on = url_template.format(**world).partition(" from ")
    client = Client()
    client.force_login(world[who])
    page = client.get(shown_on or url)
    assert page.status_code == 200, f"{shown_on or url}: {page.status_code}"
    names = _field_names(page.content.decode())  # none for a confirm-only form: posts {}

    @HYPOTHESIS
    @given(
        data=st.fixed_dictionaries(
            {n: st.one_of(VALUE, st.lists(VALUE, max_size=3)) for n in names}
        )
    )
    def post(data):
        with transaction.atomic():
            before = _audit_rows()
            response = client.post(url, data)
            assert response.status_code < 500
            if response.status_code == 200:  # the form again: refused, nothing written
                assert _audit_rows() == before, f"{url} wrote rows but showed the form again"
            transaction.set_rollback(True)

    post()


CSV_VALUE = st.one_of(
    st.sampled_from(
        [
            "",
            "9434765919",
            "4010232137",
            "POD",
            "TAU",
            "0",
            "12",
            "24",
            "60",
            "7",
            "2026-01-15",
            "2026-13-01",
            "none",
            "mild",
            "severe",
            "yes",
            "no",
            "-3",
            "4000",
            "x",
            '"',
            ",",
            "\n",
            "\x00",
        ]
    ),
    st.text(max_size=12),
)


@HYPOTHESIS
@given(
    header=st.permutations(IMPORT_COLUMN_NAMES).map(list)
    | st.lists(st.sampled_from(IMPORT_COLUMN_NAMES), max_size=16),
    rows=st.lists(st.lists(CSV_VALUE, min_size=0, max_size=16), max_size=6),
    mode=st.sampled_from(["add", "update"]),
    dates=st.sampled_from(["iso", "uk"]),
)
@pytest.mark.hazard("HAZ-05.C3")
def test_it_imports_all_or_nothing_whatever_the_csv_says(team, manager, header, rows, mode, dates):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    with transaction.atomic():
        for number in ("9434765919", "4010232137"):  # so some generated rows can import
            f.make_service_user(team, nhs_number=number)
        people_before = team.service_users.count()
        outcomes_before = OutcomeAssessment.objects.count()
        job = run_import(buffer.getvalue(), team, user=manager, mode=mode, dates=dates)
        written = OutcomeAssessment.objects.count() - outcomes_before
        if job.status == "imported":
            assert written == job.added
        else:
            assert job.status == "refused" and job.problems_csv.startswith("line,column")
            assert written == 0 and team.service_users.count() == people_before
        transaction.set_rollback(True)
