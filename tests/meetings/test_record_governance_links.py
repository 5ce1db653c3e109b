from django.urls import reverse


def test_the_episode_page_links_to_the_access_log_and_subject_access_export(
    client, clinician, episode
):
    client.force_login(clinician)
    page = client.get(reverse("meetings:episode_detail", args=[episode.pk])).content.decode()
    assert reverse("security:access_log", args=[episode.service_user_id]) in page
    assert reverse("security:subject_access", args=[episode.service_user_id]) in page
