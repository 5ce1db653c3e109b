"""How each person's time to relapse is derived from their assessments (outcomes.survival)."""

from datetime import date, timedelta

import pytest

from outcomes.survival import AssessmentFact, months, relapse_times

pytestmark = pytest.mark.hazard("HAZ-11.C9")

BASE = date(2024, 1, 10)


def fact(person, months_, day, *, relapse=False, relapse_on=None, arm="POD"):
    return AssessmentFact(person, arm, months_, BASE + timedelta(days=day), relapse, relapse_on)


def test_a_dated_relapse_counts_from_the_baseline_assessment():
    cohort = relapse_times(
        [
            fact(1, 0, 0),
            fact(1, 12, 365, relapse=True, relapse_on=BASE + timedelta(days=200)),
            fact(1, 24, 730, relapse=True),  # a later relapse: not the first
        ]
    )
    [time] = cohort.times
    assert (time.days, time.relapsed, time.approximated) == (200, True, False)
    assert time.baseline_on == BASE


def test_an_undated_relapse_sits_at_the_mid_point_of_its_interval_and_is_flagged():
    cohort = relapse_times(
        [fact(2, 0, 0), fact(2, 12, 370), fact(2, 24, 740, relapse=True, arm="POD")]
    )
    [time] = cohort.times
    # After the 12-month assessment (day 370), on or before the 24-month one (day 740).
    assert (time.days, time.relapsed, time.approximated) == (555, True, True)
    assert (time.interval_from, time.interval_to) == (370, 740)


def test_a_missed_time_point_widens_the_interval_back_to_the_last_assessment():
    cohort = relapse_times([fact(3, 0, 0), fact(3, 24, 730, relapse=True)])
    assert (cohort.times[0].days, cohort.times[0].interval_from) == (365, 0)


def test_without_a_relapse_a_person_is_censored_at_their_last_follow_up():
    cohort = relapse_times([fact(4, 0, 0), fact(4, 12, 360), fact(4, 24, 725)])
    [time] = cohort.times
    assert (time.days, time.relapsed) == (725, False)
    assert months(time.days) == pytest.approx(23.82, abs=0.01)


def test_a_relapse_flag_at_baseline_is_not_an_event():
    cohort = relapse_times([fact(5, 0, 0, relapse=True), fact(5, 12, 365)])
    assert (cohort.times[0].days, cohort.times[0].relapsed) == (365, False)


def test_people_who_cannot_be_analysed_are_counted_not_guessed():
    cohort = relapse_times(
        [
            fact(6, 12, 365, relapse=True),  # no baseline
            fact(7, 0, 0),  # no follow-up yet
            fact(8, 0, 0),
            fact(8, 12, 365, relapse=True, relapse_on=BASE),  # relapse dated on the baseline
            fact(9, 0, 0),
            fact(9, 12, -5),  # a follow-up before the baseline: an error, not used
            AssessmentFact(10, "", 0, BASE, False, None),  # in neither arm: ignored
        ]
    )
    assert cohort.times == []
    assert (cohort.no_baseline, cohort.no_follow_up, cohort.relapse_before_baseline) == (1, 2, 1)
    assert cohort.excluded == 4


def test_the_cohort_is_chosen_by_baseline_date():
    facts = [fact(11, 0, 0), fact(11, 12, 365), fact(12, 0, 40), fact(12, 12, 400)]
    chosen = relapse_times(facts, baseline_from=BASE + timedelta(days=1))
    assert [t.person_id for t in chosen.times] == [12]
    chosen = relapse_times(facts, baseline_to=BASE)
    assert [t.person_id for t in chosen.times] == [11]
