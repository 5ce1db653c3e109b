from django.urls import path

from outcomes import views

app_name = "outcomes"

urlpatterns = [
    path("", views.index, name="index"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/csv/<slug:table>/", views.dashboard_csv, name="dashboard_csv"),
    path("teams/<int:team_id>/fidelity/", views.team_fidelity, name="team_fidelity"),
    path("teams/<int:team_id>/follow-up/", views.team_follow_up, name="team_follow_up"),
    path("people/<int:person_id>/measures/", views.person_measures, name="person_measures"),
    path(
        "people/<int:person_id>/measures/licensed/new/",
        views.licensed_measure_new,
        name="licensed_measure_new",
    ),
    path(
        "people/<int:person_id>/measures/<str:instrument>/new/",
        views.scored_measure_new,
        name="scored_measure_new",
    ),
    path("people/<int:person_id>/assessments/new/", views.assessment_new, name="assessment_new"),
    path("people/<int:person_id>/survey/", views.survey_issue, name="survey_issue"),
    path("survey/<str:token>/", views.survey, name="survey"),
    path("meetings/<int:meeting_id>/fidelity/", views.meeting_fidelity, name="meeting_fidelity"),
    path("import/", views.import_upload, name="import"),
]
