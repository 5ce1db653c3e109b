"""Issue 13, point 4: a peer logs a contact in seconds.

Quick durations (5 / 15 / 30 / 60 minutes) answer "how long" in one tap, the peer's last
contact type is chosen for them, and a contact takes at most five taps from the peer's home
page: a Chromium test on a 360 px phone counts them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from networks import peer_services
from networks.models import PeerContact
from tests import factories as f
from tests.browser import PHONE


@pytest.fixture
def assigned(service_user, peer_volunteer, clinician):
    peer_services.peer_assign(
        service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=timezone.now()
    )


def _post(client, person, **fields):
    data = {
        "who": ["person"],
        "mode": "phone",
        "contact_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "purpose": "network_building",
        "note": "",
    }
    data.update(fields)
    return client.post(reverse("networks:peer_contact_add", args=[person.pk]), data)


@pytest.mark.django_db
@pytest.mark.parametrize("quick, minutes", [("5", 5), ("15", 15), ("30", 30), ("60", 60)])
def test_a_quick_duration_is_the_contacts_length(
    assigned, service_user, peer_volunteer, quick, minutes
):
    client = Client()
    client.force_login(peer_volunteer)
    response = _post(client, service_user, duration_quick=quick, duration_minutes="")
    assert response.status_code == 302
    assert PeerContact.objects.get().duration_minutes == minutes


@pytest.mark.django_db
def test_other_takes_the_typed_minutes_and_nothing_at_all_is_a_field_error(
    assigned, service_user, peer_volunteer
):
    client = Client()
    client.force_login(peer_volunteer)
    assert _post(client, service_user, duration_quick="other", duration_minutes="40").status_code
    assert PeerContact.objects.get().duration_minutes == 40

    for quick in ("other", ""):
        response = _post(client, service_user, duration_quick=quick, duration_minutes="")
        assert response.status_code == 200
        assert "Choose how long the contact was, or type the minutes." in response.content.decode()
    # A quick value that is not offered is refused at the field, not saved.
    response = _post(client, service_user, duration_quick="45", duration_minutes="")
    assert response.status_code == 200
    assert PeerContact.objects.count() == 1


@pytest.mark.django_db
def test_a_quick_duration_and_different_typed_minutes_is_a_field_error_not_a_silent_pick(
    assigned, service_user, peer_volunteer
):
    """The reviewer's case: 15 min tapped and 20 typed. Neither wins silently; nothing is saved,
    the minutes field says what conflicts. The same minutes typed as tapped is no conflict."""
    client = Client()
    client.force_login(peer_volunteer)
    response = _post(client, service_user, duration_quick="15", duration_minutes="20")
    assert response.status_code == 200
    assert PeerContact.objects.count() == 0
    errors = response.context["form"].errors
    assert "duration_minutes" in errors
    assert (
        "15 min" in errors["duration_minutes"][0] and "20 minutes" in errors["duration_minutes"][0]
    )

    # What the page's script sends after a tap on "15 min": the box holds 15 too.
    assert (
        _post(client, service_user, duration_quick="15", duration_minutes="15").status_code == 302
    )
    assert PeerContact.objects.get().duration_minutes == 15


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_tapping_a_quick_duration_fills_the_minutes_and_typing_chooses_other(
    live_server, browser, assigned, service_user, peer_volunteer
):
    client = Client()
    client.force_login(peer_volunteer)
    context = browser.new_context(**PHONE)
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
    page.goto(live_server.url + reverse("networks:peer_contact_add", args=[service_user.pk]))
    minutes = page.get_by_label("How long (minutes)")
    page.get_by_text("30 min", exact=True).click()
    assert minutes.input_value() == "30"
    minutes.fill("20")
    assert page.locator("input[name=duration_quick][value=other]").is_checked()
    assert not page.locator("input[name=duration_quick][value='30']").is_checked()
    minutes.fill("60")
    assert page.locator("input[name=duration_quick][value='60']").is_checked()
    context.close()


@pytest.mark.django_db
def test_the_form_starts_with_the_peers_last_contact_type(
    assigned, service_user, peer_volunteer, peer_worker
):
    client = Client()
    client.force_login(peer_volunteer)
    url = reverse("networks:peer_contact_add", args=[service_user.pk])
    assert 'value="visit" autocomplete="off" checked' not in client.get(url).content.decode()
    now = timezone.now()
    for mode, ago in (("phone", 3), ("visit", 1)):
        peer_services.peer_contact_log(
            service_user=service_user,
            peer=peer_volunteer,
            now=now - timedelta(hours=ago),
            with_service_user=True,
            members=[],
            contact_at=now - timedelta(hours=ago),
            mode=mode,
            duration_minutes=15,
            purpose="network_building",
            note="",
        )
    page = client.get(url).content.decode()
    assert 'value="visit" autocomplete="off" checked' in page
    assert 'value="phone" autocomplete="off" checked' not in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_contact_is_logged_in_five_taps_from_the_peers_home_page(
    live_server, browser, service_user, peer_volunteer, clinician
):
    now = timezone.now()
    peer_services.peer_assign(
        service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=now
    )
    f.make_member(service_user, name="Dana Rivers", relationship="sister")
    peer_services.peer_contact_log(  # yesterday's visit: the form remembers "Visit"
        service_user=service_user,
        peer=peer_volunteer,
        now=now - timedelta(days=1),
        with_service_user=True,
        members=[],
        contact_at=now - timedelta(days=1),
        mode="visit",
        duration_minutes=30,
        purpose="practical_help",
        note="",
    )
    client = Client()
    client.force_login(peer_volunteer)
    context = browser.new_context(**PHONE)
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
    page.goto(live_server.url + reverse("home"))
    taps = 0

    def tap(locator):
        nonlocal taps
        taps += 1
        locator.click()

    with page.expect_navigation():
        tap(page.get_by_role("link", name="Log a contact").first)
    tap(page.get_by_text("Jordan Rivers (the person)"))
    tap(page.get_by_text("15 min", exact=True))
    tap(page.get_by_text("Network building", exact=True))
    with page.expect_navigation(url="**/peer/people/**"):
        tap(page.get_by_role("button", name="Save contact"))
    context.close()

    assert taps <= 5
    contact = PeerContact.objects.order_by("-created_at").first()
    assert contact is not None
    assert (contact.mode, contact.duration_minutes, contact.purpose) == (
        "visit",
        15,
        "network_building",
    )
    assert contact.with_service_user
