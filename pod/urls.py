from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from pod import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("episodes/", include("meetings.urls")),
    path("network/", include("networks.urls")),
    path("outcomes/", include("outcomes.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("security/", include("pod.urls_security")),
    path("admin/", admin.site.urls),
]
