"""The import in Chromium at 360 px: upload, preview, import; and a background job whose page
follows its progress by htmx polling and reloads when it is done (CSP: no inline script)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from outcomes.importing import jobs
from outcomes.models import OutcomeAssessment, OutcomeImport
from tests.outcomes.import_helpers import HEADER, A, B, good_rows, people

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser, live_server, manager):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    client = Client()
    client.force_login(manager)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.csp_errors = []
    page.on(
        "console",
        lambda m: page.csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield page
    context.close()


def _serious_axe_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']})"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_upload_preview_and_import_in_the_browser(live_server, page, team):
    people(team, A, B)
    page.goto(live_server.url + reverse("outcomes:import"))
    problems = _serious_axe_violations(page)
    page.get_by_label("Team").select_option(str(team.pk))
    page.get_by_label("CSV file").set_input_files(
        {"name": "trial.csv", "mimeType": "text/csv", "buffer": (HEADER + good_rows()).encode()}
    )
    page.get_by_role("button", name="Check the file").click()
    page.get_by_text("4 to add").wait_for()
    assert OutcomeAssessment.objects.count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "outcome-import-preview-360.png"), full_page=True)
    problems += _serious_axe_violations(page)
    page.get_by_role("button", name="Import").click()
    page.get_by_text("What was imported").wait_for()
    assert OutcomeAssessment.objects.count() == 4
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert not problems, problems
    assert not page.csp_errors, page.csp_errors


def test_a_background_job_page_follows_its_progress_and_reloads(
    live_server, page, team, manager, monkeypatch
):
    people(team, A, B)
    monkeypatch.setattr(jobs, "task_send_on_commit", lambda *args: None)  # no worker here
    job, _ = jobs.import_submit(
        team=team,
        uploaded_by=manager,
        file_name="big.csv",
        data=(HEADER + good_rows()).encode(),
        mode="add",
        date_format="iso",
        inline=False,
        now=datetime.now(UTC),
    )
    page.goto(live_server.url + reverse("outcomes:import_job", args=[job.pk]))
    assert page.locator("progress").is_visible()
    assert page.get_by_text("You may close this page").is_visible()
    jobs.import_preview_run(job.pk, now=datetime.now(UTC))  # the worker finishes
    page.get_by_text("What would happen").wait_for(timeout=10_000)  # polled, then reloaded
    page.screenshot(path=str(ARTIFACTS / "outcome-import-background-360.png"), full_page=True)
    assert OutcomeImport.objects.get().status == "ready"
    assert not page.csp_errors, page.csp_errors
