"""The clinician's episode pages (namespace "meetings"). Alerts link to `episode_detail`."""

from django.urls import path

from meetings.views import episodes, medication, meeting_pages, network_pages, reviews

app_name = "meetings"

urlpatterns = [
    path("new/", episodes.episode_new, name="episode_new"),
    path("new/person/", episodes.person_lookup, name="person_lookup"),
    # The service managers' reviews of breaches, overrides and violations (issue 13).
    path("reviews/", reviews.review_list, name="review_list"),
    path("reviews/<int:review_pk>/", reviews.review_detail, name="review_detail"),
    path("<int:pk>/", episodes.episode_detail, name="episode_detail"),
    path("<int:pk>/timeline/", episodes.episode_timeline, name="episode_timeline"),
    path("<int:pk>/care-plan/", episodes.care_plan, name="care_plan"),
    path("<int:pk>/prescribe/", episodes.prescribe, name="prescribe"),
    path("<int:pk>/medication/", medication.current_medication, name="current_medication"),
    path("<int:pk>/close/", episodes.episode_close, name="episode_close"),
    path("<int:pk>/meetings/new/", meeting_pages.meeting_new, name="meeting_new"),
    path("<int:pk>/meetings/daily/", meeting_pages.meeting_daily_run, name="meeting_daily_run"),
    path(
        "<int:pk>/meetings/took-place/",
        meeting_pages.meeting_took_place,
        name="meeting_took_place",
    ),
    path(
        "<int:pk>/meetings/<int:meeting_pk>/", meeting_pages.meeting_detail, name="meeting_detail"
    ),
    path(
        "<int:pk>/meetings/<int:meeting_pk>/held/",
        meeting_pages.meeting_record_held,
        name="meeting_record_held",
    ),
    path(
        "<int:pk>/meetings/<int:meeting_pk>/cancel/",
        meeting_pages.meeting_cancel,
        name="meeting_cancel",
    ),
    path(
        "<int:pk>/meetings/<int:meeting_pk>/reschedule/",
        meeting_pages.meeting_reschedule,
        name="meeting_reschedule",
    ),
    path(
        "<int:pk>/meetings/<int:meeting_pk>/correct/",
        meeting_pages.meeting_correct,
        name="meeting_correct",
    ),
    path(
        "<int:pk>/meetings/<int:meeting_pk>/utterances/",
        meeting_pages.utterance_add,
        name="utterance_add",
    ),
    path(
        "<int:pk>/meetings/<int:meeting_pk>/decisions/",
        meeting_pages.decision_add,
        name="decision_add",
    ),
    path(
        "<int:pk>/meetings/<int:meeting_pk>/invitation.ics",
        meeting_pages.meeting_ics,
        name="meeting_ics",
    ),
]

# Pages of the networks namespace that show meetings data (meetings/views/network_pages.py).
# pod/urls.py serves them under /network/ with the networks app's own URLs, so their names and
# paths stay `networks:peer_person` and `networks:network_map`.
networks_urlpatterns = [
    path("peer/people/<int:person_pk>/", network_pages.peer_person, name="peer_person"),
    path("people/<int:person_pk>/map/", network_pages.network_map_view, name="network_map"),
]
