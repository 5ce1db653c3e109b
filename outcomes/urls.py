from django.urls import path

from outcomes.views import (
    dashboards,
    fidelity,
    measures,
    outcome_import,
    relapse,
    research,
    survey,
)

app_name = "outcomes"

urlpatterns = [
    path("", dashboards.index, name="index"),
    path("dashboard/", dashboards.dashboard, name="dashboard"),
    path("dashboard/csv/<slug:table>/", dashboards.dashboard_csv, name="dashboard_csv"),
    path("dashboard/<slug:section>/", dashboards.dashboard_section, name="dashboard_section"),
    path("relapse/", relapse.relapse, name="relapse"),
    path("relapse/csv/<slug:table>/", relapse.relapse_csv, name="relapse_csv"),
    path("research/", research.research_export, name="research_export"),
    path("research/dictionary.csv", research.research_dictionary, name="research_dictionary"),
    path("teams/<int:team_id>/fidelity/", fidelity.team_fidelity, name="team_fidelity"),
    path("teams/<int:team_id>/follow-up/", measures.team_follow_up, name="team_follow_up"),
    path("people/<int:person_id>/measures/", measures.person_measures, name="person_measures"),
    path(
        "people/<int:person_id>/measures/licensed/new/",
        measures.licensed_measure_new,
        name="licensed_measure_new",
    ),
    path(
        "people/<int:person_id>/measures/<str:instrument>/new/",
        measures.scored_measure_new,
        name="scored_measure_new",
    ),
    path("people/<int:person_id>/assessments/new/", measures.assessment_new, name="assessment_new"),
    path("people/<int:person_id>/survey/", survey.survey_issue, name="survey_issue"),
    path("survey/<str:token>/", survey.survey, name="survey"),
    path("meetings/<int:meeting_id>/fidelity/", fidelity.meeting_fidelity, name="meeting_fidelity"),
    path("import/", outcome_import.import_upload, name="import"),
    path("import/template.csv", outcome_import.import_template, name="import_template"),
    path("import/dictionary.csv", outcome_import.import_dictionary, name="import_dictionary"),
    path("import/<int:job_id>/", outcome_import.import_job, name="import_job"),
    path("import/<int:job_id>/progress/", outcome_import.import_progress, name="import_progress"),
    path("import/<int:job_id>/run/", outcome_import.import_run, name="import_run"),
    path(
        "import/<int:job_id>/same-person/",
        outcome_import.import_same_person,
        name="import_same_person",
    ),
    path(
        "import/<int:job_id>/problems.csv", outcome_import.import_problems, name="import_problems"
    ),
]
