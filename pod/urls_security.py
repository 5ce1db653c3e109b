from django.urls import path

from pod import views_security

app_name = "security"

urlpatterns = [
    path("people/<int:pk>/access-log/", views_security.access_log, name="access_log"),
]
