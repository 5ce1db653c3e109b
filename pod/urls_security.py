from django.urls import path

from pod import views_security

app_name = "security"

urlpatterns = [
    path("people/<int:pk>/access-log/", views_security.access_log, name="access_log"),
    path("two-factor/set-up/", views_security.twofactor_setup, name="twofactor_setup"),
    path("two-factor/verify/", views_security.twofactor_verify, name="twofactor_verify"),
]
