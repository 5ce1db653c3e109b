"""Root URLconf (project wiring): the project's own pages, then each app's under its prefix."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from meetings import urls as meetings_urls
from networks import urls as networks_urls
from pod import health, home
from pod.foundation import views as foundation_views
from pod.foundation.forms import OutboxPasswordResetForm
from pod.records import people
from pod.records import views as records_views

# Namespace "security": a person's access log and subject access export (pod/records), and the
# second factor (pod/foundation).
security_urlpatterns = [
    path("people/<int:pk>/access-log/", records_views.access_log, name="access_log"),
    path("people/<int:pk>/subject-access/", records_views.subject_access, name="subject_access"),
    path(
        "people/<int:pk>/subject-access.json",
        records_views.subject_access,
        {"as_json": True},
        name="subject_access_json",
    ),
    path(
        "people/<int:pk>/subject-access/released/",
        records_views.subject_access_release,
        name="subject_access_release",
    ),
    path(
        "people/<int:pk>/subject-access/include/",
        records_views.subject_access_include,
        name="subject_access_include",
    ),
    path("two-factor/", foundation_views.twofactor_manage, name="twofactor_manage"),
    path("two-factor/set-up/", foundation_views.twofactor_setup, name="twofactor_setup"),
    path("two-factor/verify/", foundation_views.twofactor_verify, name="twofactor_verify"),
]

# Namespace "people": find a person, their details, correcting them (pod/records/people.py).
people_urlpatterns = [
    path("search/", people.person_search, name="person_search"),
    path("<int:person_pk>/", people.person_detail, name="person_detail"),
    path("<int:person_pk>/correct/", people.person_correct, name="person_correct"),
]

urlpatterns = [
    path("", home.home, name="home"),
    path("health/", home.health, name="health"),
    path("health/monitor/", health.monitor, name="health_monitor"),
    path(
        "notifications/<int:pk>/read/",
        foundation_views.notification_read,
        name="notification_read",
    ),
    path("episodes/", include("meetings.urls")),
    # The networks namespace also holds two pages that show meetings data and so are defined in
    # meetings (meetings/views/network_pages.py): networks may not import meetings.
    path(
        "network/",
        include(
            (
                [*networks_urls.urlpatterns, *meetings_urls.networks_urlpatterns],
                networks_urls.app_name,
            )
        ),
    ),
    path("outcomes/", include("outcomes.urls")),
    # The FHIR R4 API (pod/fhir; README "Interoperability").
    path("fhir/", include("pod.fhir.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password-reset/",
        # The email goes through the outbox, like every other (pod/foundation/forms.py).
        auth_views.PasswordResetView.as_view(form_class=OutboxPasswordResetForm),
        name="password_reset",
    ),
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
    path("people/", include((people_urlpatterns, "people"))),
    path("security/", include((security_urlpatterns, "security"))),
    path("admin/", admin.site.urls),
]
