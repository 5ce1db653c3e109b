"""Draw the README's time-to-relapse chart (docs/time-to-relapse.png) through the real code.

    .venv/bin/python docs/render_relapse_chart.py          # needs Debian's Chromium

A made-up trial of 60 people per arm, assessed at baseline, 12, 24 and 60 months, whose
relapses (some recorded without a date) come from exponential times, POD's hazard half of TAU's.
The facts go through outcomes.survival.relapse_times, outcomes.survival_analysis.analyse and
outcomes.survival_chart.relapse_chart, exactly as the page draws them; Chromium renders the SVG
to PNG. No database is needed.
"""

from __future__ import annotations

import os
import random
import sys
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pod.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from playwright.sync_api import sync_playwright  # noqa: E402

from outcomes.survival import AssessmentFact, relapse_times  # noqa: E402
from outcomes.survival_analysis import analyse  # noqa: E402
from outcomes.survival_chart import relapse_chart  # noqa: E402

MEDIAN_DAYS = {"POD": 1400, "TAU": 700}  # exponential: POD's hazard half of TAU's


def facts(seed: int = 14) -> list[AssessmentFact]:
    rng = random.Random(seed)
    found = []
    for person in range(120):
        arm = "POD" if person % 2 else "TAU"
        baseline = date(2019, 1, 1) + timedelta(days=rng.randrange(0, 900))
        relapse_day = rng.expovariate(0.693 / MEDIAN_DAYS[arm])
        dropout_day = rng.uniform(400, 2200)  # assessments stop (lost, or not due yet)
        found.append(AssessmentFact(person, arm, 0, baseline, False, None))
        previous = 0
        for months in (12, 24, 60):
            day = round(months * 30.44) + rng.randrange(-20, 21)
            if day > dropout_day:
                break
            relapsed = previous < relapse_day <= day
            dated = relapsed and rng.random() < 0.7
            found.append(
                AssessmentFact(
                    person,
                    arm,
                    months,
                    baseline + timedelta(days=day),
                    relapsed,
                    baseline + timedelta(days=round(relapse_day)) if dated else None,
                )
            )
            if relapsed:
                break
            previous = day
    return found


def main() -> None:
    analysis = analyse(relapse_times(facts()))
    svg = relapse_chart(analysis, title="Time to relapse: Kaplan-Meier curves, POD against TAU")
    style = "margin:0;background:#fff;font-family:sans-serif"
    page = f'<html><body style="{style}">{svg}</body></html>'
    out = HERE / "time-to-relapse.png"
    with sync_playwright() as p:
        chromium = os.environ.get("POD_CHROMIUM", "/usr/bin/chromium")
        browser = p.chromium.launch(executable_path=chromium)
        tab = browser.new_page(viewport={"width": 960, "height": 600}, device_scale_factor=1)
        tab.set_content(page)
        tab.locator("svg").screenshot(path=str(out))
        browser.close()
    print(f"wrote {out}")
    for curve in analysis.arms:
        print(curve.arm, curve.people, curve.relapses, curve.approximated, curve.median)
    print(analysis.comparison)


if __name__ == "__main__":
    main()
