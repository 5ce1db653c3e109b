"""Pure rules for peer work: the 24-hour edit window, dated membership, thin networks."""

from datetime import UTC, datetime, timedelta

import pytest

from networks import rules

UTC = UTC
LOGGED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.mark.hazard("HAZ-07.C5")
def test_it_lets_the_author_edit_until_just_before_24_hours():
    now = LOGGED + timedelta(hours=24) - timedelta(seconds=1)
    assert rules.peer_contact_is_editable(author_id=1, user_id=1, created_at=LOGGED, now=now)


@pytest.mark.hazard("HAZ-07.C5")
def test_it_fixes_a_contact_at_24_hours():
    now = LOGGED + timedelta(hours=24)
    assert not rules.peer_contact_is_editable(author_id=1, user_id=1, created_at=LOGGED, now=now)


@pytest.mark.hazard("HAZ-07.C5")
def test_it_never_lets_anyone_but_the_author_edit():
    assert not rules.peer_contact_is_editable(author_id=1, user_id=2, created_at=LOGGED, now=LOGGED)


def test_it_counts_a_directly_added_member_from_when_they_were_added():
    kw = dict(status="active", added_at=LOGGED, joined_at=None, ended_at=None)
    assert not rules.member_in_network_at(**kw, at=LOGGED - timedelta(seconds=1))
    assert rules.member_in_network_at(**kw, at=LOGGED)


def test_it_leaves_a_proposal_out_until_consent_and_an_ended_member_out_after_ending():
    assert not rules.member_in_network_at(
        status="proposed",
        added_at=LOGGED,
        joined_at=None,
        ended_at=None,
        at=LOGGED + timedelta(days=9),
    )
    joined = LOGGED + timedelta(days=2)
    ended = LOGGED + timedelta(days=5)
    kw = dict(status="ended", added_at=LOGGED, joined_at=joined, ended_at=ended)
    assert not rules.member_in_network_at(**kw, at=LOGGED + timedelta(days=1))
    assert rules.member_in_network_at(**kw, at=joined)
    assert not rules.member_in_network_at(**kw, at=ended)


def test_it_calls_a_network_thin_below_the_threshold():
    assert rules.network_is_thin(active_non_professional=2, threshold=3)
    assert not rules.network_is_thin(active_non_professional=3, threshold=3)


def test_it_puts_every_member_category_in_a_sector():
    from networks.models import NetworkMember

    assert set(NetworkMember.Category.values) == set(rules.SECTOR_OF_CATEGORY)
