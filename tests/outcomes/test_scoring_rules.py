"""Scoring and reporting rules, on published examples and boundaries (no database)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from outcomes import rules, scoring


@pytest.mark.parametrize(
    ("items", "total", "band"),
    [
        ([0] * 9, 0, "none-minimal"),
        ([1, 1, 1, 1, 0, 0, 0, 0, 0], 4, "none-minimal"),
        ([1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "mild"),
        ([1] * 9, 9, "mild"),
        ([2, 2, 2, 1, 1, 1, 1, 0, 0], 10, "moderate"),  # Kroenke 2001: >=10 = moderate
        ([2, 2, 2, 2, 2, 2, 2, 0, 0], 14, "moderate"),
        ([2, 2, 2, 2, 2, 2, 2, 1, 0], 15, "moderately severe"),
        ([3, 3, 3, 2, 2, 2, 2, 2, 0], 19, "moderately severe"),
        ([3, 3, 3, 3, 2, 2, 2, 2, 0], 20, "severe"),
        ([3] * 9, 27, "severe"),
    ],
)
@pytest.mark.hazard("HAZ-11.C2")
def test_it_scores_phq9_with_the_published_bands(items, total, band):
    score = scoring.score_phq9(items)
    assert (score.total, score.band) == (total, band)


@pytest.mark.parametrize(
    ("items", "total", "band"),
    [
        ([0] * 7, 0, "minimal"),
        ([1, 1, 1, 1, 0, 0, 0], 4, "minimal"),
        ([1, 1, 1, 1, 1, 0, 0], 5, "mild"),  # Spitzer 2006 cut-points 5, 10, 15
        ([2, 2, 2, 1, 1, 1, 1], 10, "moderate"),
        ([2, 2, 2, 2, 2, 2, 2], 14, "moderate"),
        ([3, 2, 2, 2, 2, 2, 2], 15, "severe"),
        ([3] * 7, 21, "severe"),
    ],
)
@pytest.mark.hazard("HAZ-11.C2")
def test_it_scores_gad7_with_the_published_bands(items, total, band):
    score = scoring.score_gad7(items)
    assert (score.total, score.band) == (total, band)


@pytest.mark.hazard("HAZ-11.C2")
def test_it_scores_dialog_as_two_means():
    # Life domains 4,5,3,6,2,7,4,5 -> 36/8 = 4.50; treatment 6,5,6 -> 17/3 = 5.67
    score = scoring.score_dialog([4, 5, 3, 6, 2, 7, 4, 5, 6, 5, 6])
    assert score.life_domains_mean == Decimal("4.50")
    assert score.treatment_mean == Decimal("5.67")
    assert score.total is None and score.band == ""


@pytest.mark.parametrize(
    ("scorer", "items"),
    [
        (scoring.score_phq9, [0] * 8),
        (scoring.score_phq9, [0] * 8 + [4]),
        (scoring.score_gad7, [0] * 6 + [-1]),
        (scoring.score_dialog, [0] + [4] * 10),
        (scoring.score_dialog, [8] + [4] * 10),
    ],
)
@pytest.mark.hazard("HAZ-11.C2")
def test_it_refuses_wrong_item_counts_and_out_of_range_items(scorer, items):
    with pytest.raises(ValueError):
        scorer(items)


@pytest.mark.hazard("HAZ-11.C2")
def test_it_checks_licensed_scores_against_their_range():
    assert scoring.licensed_score_error(name="WEMWBS", score=Decimal(14)) is None
    assert scoring.licensed_score_error(name="WEMWBS", score=Decimal(13)) is not None
    assert scoring.licensed_score_error(name="HoNOS", score=Decimal(49)) is not None
    assert scoring.licensed_score_error(name="ReQoL-10", score=Decimal(40)) is None


@pytest.mark.hazard("HAZ-11.C3")
def test_it_suppresses_cells_resting_on_fewer_than_five_people():
    assert rules.share(2, 4, suppress_under=5).suppressed
    assert str(rules.share(2, 4, suppress_under=5)) == "suppressed (n<5)"
    shown = rules.share(2, 5, suppress_under=5)
    assert not shown.suppressed and shown.percent == 40.0
    assert str(shown) == "40% (95% CI 12 to 77%, n=5)"
    assert rules.share(0, 0, suppress_under=5).percent is None  # nothing to hide


def test_it_adds_calendar_months_clamping_to_the_month_end():
    assert rules.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert rules.add_months(date(2023, 3, 15), 60) == date(2028, 3, 15)


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (date(2026, 1, 31), "not_yet"),
        (date(2026, 2, 1), "due"),  # 30 days before 3 March
        (date(2026, 4, 2), "due"),  # 30 days after
        (date(2026, 4, 3), "overdue"),
    ],
)
def test_it_says_when_an_assessment_is_due_and_overdue(today, status):
    due_on = rules.assessment_due_on(referral_on=date(2025, 3, 3), timepoint_months=12)
    assert due_on == date(2026, 3, 3)
    assert rules.assessment_status(due_on=due_on, today=today, done=False) == status
    assert rules.assessment_status(due_on=due_on, today=today, done=True) == "done"


@pytest.mark.hazard("HAZ-11.C6")
def test_it_expires_a_survey_link_after_exactly_fourteen_days():
    issued = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # spans the clocks going forward
    expires = rules.survey_expires_at(issued_at=issued)
    assert expires - issued == timedelta(days=14)
    before = expires - timedelta(seconds=1)
    assert rules.survey_link_refusal(expires_at=expires, used_at=None, now=before) is None
    assert "expired" in rules.survey_link_refusal(expires_at=expires, used_at=None, now=expires)
    assert "already been used" in rules.survey_link_refusal(
        expires_at=expires, used_at=before, now=before
    )


@pytest.mark.hazard("HAZ-10.C4")
def test_it_stores_a_hash_not_the_token():
    digest = rules.survey_token_hash("abc")
    assert digest != "abc" and len(digest) == 64
    assert digest == rules.survey_token_hash("abc")
