"""Debian's Chromium, driven by Playwright, for the browser tests (never a downloaded browser).

Use the `browser` fixture (tests/conftest.py); each test opens its own context at the size it
needs. Chromium is installed by `.ci/run`; where it is missing, the browser tests fail under CI
(or with POD_REQUIRE_BROWSER=1) and are skipped with that reason elsewhere, so a newcomer's
`make test` without Chromium says so rather than hiding it.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("POD_CHROMIUM", "/usr/bin/chromium")
# The flags this machine needs: no sandbox as root, and no background calls to the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


def launch_browser(monkeypatch):
    """Yield a launched Chromium; the caller's fixture owns its lifetime."""
    if not Path(CHROMIUM).exists():
        message = f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") or os.environ.get("POD_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread while the test's ORM calls stay
    # synchronous. Set per test, so no other test (nor a subprocess running `check --deploy`)
    # inherits it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # Every page prefers reduced motion, so Bootstrap's 0.15 s colour transitions are off
        # and axe reads a control's settled colours. With motion, axe run just after a click on
        # a toggle button read the colours half-way (#4590fd on #c7deff, 2.3:1) in 9 runs of 10
        # and failed CI. Chromium's --force-prefers-reduced-motion is overridden by
        # Playwright's own emulation, so the default is set on the context instead; a test may
        # still ask for reduced_motion="no-preference".
        browser.new_context = functools.partial(browser.new_context, reduced_motion="reduce")
        browser.new_page = functools.partial(browser.new_page, reduced_motion="reduce")
        try:
            yield browser
        finally:
            browser.close()
            # Starting Playwright leaves this thread in another contextvars context, so the
            # test's ORM calls opened their own connection (Django keys connections by context).
            # Close it here, in that context, or it outlives the test and PostgreSQL refuses to
            # drop the test database at the end of the session.
            from django.db import connections

            connections.close_all()
