"""The browser tests' harness (tests/browser.py) checks pages in their settled state."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import PHONE

pytestmark = pytest.mark.browser

BOOTSTRAP = Path(__file__).resolve().parents[2] / "static/vendor/bootstrap/bootstrap.min.css"

# Two of the peer contact form's toggle buttons (templates/networks/peer/contact_form.html).
TOGGLES = """<!doctype html><html lang="en"><head><title>Toggles</title><style>{css}</style>
</head><body><main><h1>Toggles</h1>
<input type="radio" class="btn-check" name="purpose" id="a" autocomplete="off">
<label class="btn btn-outline-primary" for="a">Network building</label>
<input type="radio" class="btn-check" name="purpose" id="b" autocomplete="off">
<label class="btn btn-outline-primary" for="b">Visit</label>
</main></body></html>"""


def test_every_page_prefers_reduced_motion_so_axe_reads_settled_colours(browser):
    """Without the harness's reduced-motion default, axe run just after a click read a toggle
    button's colours half-way through Bootstrap's transition (2.3:1) and CI failed at random."""
    from axe_playwright_python.sync_playwright import Axe

    css = BOOTSTRAP.read_text()
    context = browser.new_context(**PHONE)
    pages = [context.new_page(), browser.new_page()]
    try:
        for page in pages:
            assert page.evaluate("matchMedia('(prefers-reduced-motion: reduce)').matches")
            for _ in range(3):
                page.set_content(TOGGLES.format(css=css))
                page.get_by_text("Network building").click()
                violations = Axe().run(page).response["violations"]
                assert [v["id"] for v in violations if v["id"] == "color-contrast"] == []
    finally:
        pages[1].close()
        context.close()
