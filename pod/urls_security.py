from django.urls import path

from pod import views_security

app_name = "security"

urlpatterns = [
    path("people/<int:pk>/access-log/", views_security.access_log, name="access_log"),
    path("people/<int:pk>/subject-access/", views_security.subject_access, name="subject_access"),
    path(
        "people/<int:pk>/subject-access.json",
        views_security.subject_access,
        {"as_json": True},
        name="subject_access_json",
    ),
    path("two-factor/set-up/", views_security.twofactor_setup, name="twofactor_setup"),
    path("two-factor/verify/", views_security.twofactor_verify, name="twofactor_verify"),
]
