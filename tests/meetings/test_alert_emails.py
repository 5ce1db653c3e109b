"""Alert emails people can read: plain text that is plain, a subject that says what and when,
and a link each recipient may open (the manager's to the review, never the episode)."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from meetings.alerts import alerts_deliver_pending
from meetings.models import Alert, Review
from meetings.services.prescriptions import prescription_create
from meetings.sweeps import first_meeting_sweep
from pod.devstack.__main__ import run_environment
from pod.foundation.outbox import messages_deliver_due
from tests import factories as f

SITE = "https://pod.example.nhs.uk"


@pytest.fixture
def aande_team(trust):
    return f.make_team(trust, name="St Mary's A&E liaison", kind="CRT")


@pytest.fixture
def people(aande_team):
    return {
        "clinician": f.make_user("clinician", aande_team),
        "clinician2": f.make_user("clinician", aande_team),
        "manager": f.make_user("service_manager", aande_team),
        "prescriber": f.make_user("prescriber", aande_team),
    }


def deliver(now):
    alerts_deliver_pending(now=now)
    messages_deliver_due()


@pytest.fixture
def breach_emails(aande_team, people, referral_at, settings, mailoutbox):
    settings.SITE_URL = SITE
    episode = f.make_episode(
        team=aande_team,
        core_team=[people["clinician"], people["clinician2"]],
        referral_received_at=referral_at,
    )
    due = episode.first_meeting_due_at
    first_meeting_sweep(now=due)
    Alert.objects.exclude(kind="breached").delete()
    deliver(due)
    return episode, {m.to[0]: m for m in mailoutbox}


@pytest.mark.hazard("HAZ-10.C7")
def test_the_plain_text_is_plain_and_the_html_is_escaped(breach_emails, people):
    _, emails = breach_emails
    email = emails[people["clinician"].email]
    assert "St Mary's A&E liaison" in email.body
    assert "St Mary's A&E liaison" in email.subject
    for entity in ("&#x27;", "&#39;", "&amp;", "&quot;", "&lt;"):
        assert entity not in email.body and entity not in email.subject
    ((html, mimetype),) = email.alternatives
    assert mimetype == "text/html"
    assert "St Mary&#x27;s A&amp;E liaison" in html


def test_the_subject_says_what_and_when(breach_emails, people):
    episode, emails = breach_emails
    # Due at 09:00 UTC on Tuesday 3 March 2026 = 09:00 in London (GMT).
    assert emails[people["manager"].email].subject == (
        f"[POD] 24-hour first meeting breached: episode {episode.pk} "
        "(St Mary's A&E liaison), Tue 3 Mar 09:00"
    )


@pytest.mark.hazard("HAZ-02.C7")
def test_each_recipient_gets_a_link_they_may_open(breach_emails, people, client):
    episode, emails = breach_emails
    links = {}
    for who in ("clinician", "clinician2", "manager"):
        email = emails[people[who].email]
        (link,) = [w for w in email.body.split() if w.startswith(SITE)]
        assert link in email.alternatives[0][0]
        links[who] = link
        url = urlsplit(link)
        client.force_login(people[who])
        assert client.get(url.path).status_code == 200, who
    assert urlsplit(links["clinician"]).path == f"/episodes/{episode.pk}/"
    # The manager may not open the episode: their link is the breach's review (issue 13).
    review = Review.objects.get(kind=Review.Kind.BREACH, episode=episode)
    assert links["manager"] == f"{SITE}/episodes/reviews/{review.pk}/"
    client.force_login(people["manager"])
    assert client.get(f"/episodes/{episode.pk}/").status_code == 403
    assert "Open the review" in emails[people["manager"].email].body


@pytest.mark.hazard("HAZ-02.C7")
def test_the_managers_link_for_an_override_goes_to_its_review(
    aande_team, people, referral_at, settings, mailoutbox
):
    settings.SITE_URL = SITE
    episode = f.make_episode(
        team=aande_team,
        core_team=[people["clinician"], people["prescriber"]],
        referral_received_at=referral_at,
    )
    at = referral_at + timedelta(hours=3)
    prescription_create(
        episode=episode,
        medicine="Olanzapine",
        dose="5 mg at night",
        is_antipsychotic=True,
        prescriber=people["prescriber"],
        prescribed_at=at,
        now=at,
        override_reason="rapid_response",
        override_explanation="Has not eaten or drunk for three days; physical safety at risk.",
    )
    deliver(at)
    emails = {m.to[0]: m for m in mailoutbox}
    manager_email = emails[people["manager"].email]
    review = Review.objects.get(kind=Review.Kind.OVERRIDE, episode=episode)
    assert f"{SITE}/episodes/reviews/{review.pk}/" in manager_email.body
    assert f"/episodes/{episode.pk}/" not in manager_email.body
    assert f"{SITE}/episodes/{episode.pk}/" in emails[people["prescriber"].email].body


def test_make_run_points_email_links_at_its_own_port():
    env = {"POD_PORT": "8101"}
    assert run_environment(env) == 8101
    assert env["SITE_URL"] == "http://127.0.0.1:8101"
    env = {"POD_PORT": "8101", "SITE_URL": "https://pod.example.nhs.uk"}
    run_environment(env)
    assert env["SITE_URL"] == "https://pod.example.nhs.uk"  # an explicit value wins
