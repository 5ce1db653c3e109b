"""POD settings: one module, configured from the environment.

Every variable is listed in the README under "Configuration". A bad value stops start-up with a
message naming the variable (see pod/env.py).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from pod.env import env_bool, env_float, env_int, env_list, env_str, env_url
from pod.foundation.localtime import SERVICE_TIME_ZONE_NAME

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-change-me" if DEBUG else None)
if not DEBUG and SECRET_KEY.startswith("insecure"):
    raise ImproperlyConfigured("SECRET_KEY must be set to a long random value when DEBUG is off")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Links in emails start with this; `make run` sets it from POD_PORT (pod/devstack), and without
# it a development server started on POD_PORT (manage.py runserver, a worker beside it) follows
# that port too.
SITE_URL = env_str("SITE_URL", f"http://127.0.0.1:{env_int('POD_PORT', 8000, minimum=1)}")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "health_check",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "oauth2_provider",
    "pod.apps.PodConfig",
    "networks.apps.NetworksConfig",
    "meetings.apps.MeetingsConfig",
    "outcomes.apps.OutcomesConfig",
    # The FHIR API (project wiring: it reads every app); README "Interoperability".
    "pod.fhir.apps.FhirConfig",
]

MIDDLEWARE = [
    # First: decides http or https from X-Forwarded-Proto, believed only through the trusted
    # proxies (POD_TRUSTED_PROXY_COUNT); SecurityMiddleware's redirect reads the result.
    "pod.foundation.middleware.TrustedProxySchemeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise, so static files stay cacheable and every page is not.
    "pod.foundation.middleware.NoStoreMiddleware",
    # Pages gzipped (83 KB -> 5 KB) after every middleware below has written the body; static
    # files never reach it (WhiteNoise answers them above, precompressed). BREACH: Django masks
    # the CSRF token afresh in every response and pads each gzip response with random bytes;
    # cookies are SameSite=Lax (README "Security", "Compression").
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Who made each change: the audit triggers copy this context (pod/foundation/audit_context.py).
    "pod.foundation.audit_context.AuditContextMiddleware",  # signed; link tokens removed
    "django.contrib.messages.middleware.MessageMiddleware",
    "pod.foundation.middleware.SessionLimitsMiddleware",
    "pod.foundation.twofactor.TwoFactorMiddleware",
    # Logs every opened page of a person's record (pod/foundation/middleware.py).
    "pod.foundation.middleware.RecordAccessMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a lockout into the "locked out" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pod.urls"
WSGI_APPLICATION = "pod.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # `{% load pod_words %}`: times and spans in words (pod/foundation/time_words.py).
            "libraries": {"pod_words": "pod.foundation.template_words"},
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # `first_meeting_hours`: the configured window, for pages that name it.
                "meetings.context_processors.first_meeting_window",
                # `person_banner`: who a page about one person is about (pod/records/banner.py).
                "pod.records.banner.person_banner",
            ],
            # `{% submission_token %}`: the one-time token in hand-written forms that change the
            # record (pod/foundation/submission_tags.py).
            "builtins": ["pod.foundation.submission_tags", "pod.foundation.breadcrumb_tags"],
        },
    },
]

# --- Database: PostgreSQL only (row locks, partial indexes, triggers). -------------------------
DATABASE_URL = env_url(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pod", schemes=("postgres", "postgresql")
)
# Connections are reused for 60 s, and checked (a cheap round trip) before their first use in each
# request or task: after a failover or a restart of PostgreSQL, the first request in each process
# reconnects instead of failing (tests/pod/test_database_failover.py).
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
# Per session, for the dashboards (benchmarks/dashboards/RESULTS.md): JIT compilation adds ~0.4 s
# to each large aggregate and saves nothing; random_page_cost 1.1 (data in memory or on SSD)
# lets the planner walk one team's episodes through their indexes instead of scanning all.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off -c random_page_cost=1.1"
# The pages' compiled look-ups (pod/foundation/compiled_query.py) are PREPAREd once per
# connection, so PostgreSQL plans each once instead of on every request. Set 0 behind a
# connection pooler in transaction mode (PgBouncer's pool_mode = transaction): a connection's
# prepared statements would not follow the next transaction to another server connection.
POD_DB_PREPARED_STATEMENTS = env_bool("POD_DB_PREPARED_STATEMENTS", True)
if POD_DB_PREPARED_STATEMENTS:
    # Planned once: left to choose (plan_cache_mode auto), PostgreSQL kept planning the home
    # page's meetings-of-the-day and caseload lists afresh on every request, its estimate of
    # their generic plans being higher. Measured on the benchmark's service, the generic plans
    # (the team's episodes by a bitmap scan of its index) ran in 0.6-2.3 ms at 50,000 people
    # against 1.6-3.9 ms for the plans made for each request's values, planning aside.
    # Applies to prepared statements and PL/pgSQL only (the audit triggers' statements take no
    # parameters that change their plans).
    DATABASES["default"]["OPTIONS"]["options"] += " -c plan_cache_mode=force_generic_plan"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "pod.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTHENTICATION_BACKENDS = [
    # django-axes first: refuses a locked-out username/address before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Time: store UTC, present and do calendar arithmetic in London. ---------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = SERVICE_TIME_ZONE_NAME
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Static files get content-hashed names (app.3f2a9c.css) from `collectstatic`, so WhiteNoise
# serves them with a year's cache lifetime (immutable) and a returning browser fetches only the
# page; a changed file gets a new name. In DEBUG (`make run`) the unhashed names are used and
# served straight from static/. The test suite uses the plain compressed storage, since it does
# not run collectstatic (tests/conftest.py).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "pod.static_storage.HashedStaticStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email ------------------------------------------------------------------------------------
# Demo mode writes one line per message to the log (the message itself is in the admin); the
# SMTP backend is Django's, keeping the server's answer for the outbox (pod/foundation/
# mail_backends.py).
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "pod.foundation.mail_backends.ConsoleSummaryBackend"
    if DEBUG
    else "pod.foundation.mail_backends.SMTPBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "POD <pod@localhost>")
# Seconds the mail server has for each step (connect, each command) before the send fails.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)

# --- The outbox (pod/foundation/outbox.py; README "Deploying" says what it guarantees). --------
# How long a worker's claim on a message lasts; a killed worker's message is sent again after
# it. Far longer than a send can take (EMAIL_TIMEOUT per step), so a slow send is never doubled.
POD_OUTBOX_LEASE_SECONDS = env_int("POD_OUTBOX_LEASE_SECONDS", 300, minimum=30)
if POD_OUTBOX_LEASE_SECONDS < 10 * EMAIL_TIMEOUT:
    raise ImproperlyConfigured("POD_OUTBOX_LEASE_SECONDS must be at least 10 x EMAIL_TIMEOUT")
# A message that failed this many times is marked failed and reported by /health/monitor/.
POD_OUTBOX_MAX_ATTEMPTS = env_int("POD_OUTBOX_MAX_ATTEMPTS", 12, minimum=1)

# --- Monitoring (/health/monitor/, pod/health.py): when it stops answering 200. ---------------
# A periodic task is late when it last completed longer ago than its interval plus this.
POD_HEALTH_SWEEP_GRACE_MINUTES = env_int("POD_HEALTH_SWEEP_GRACE_MINUTES", 5, minimum=1)
# An email or alert still undelivered this long after it was owed.
POD_HEALTH_UNDELIVERED_MINUTES = env_int("POD_HEALTH_UNDELIVERED_MINUTES", 15, minimum=1)
# An episode whose 24-hour clock check has failed this many times in a row (one try every 10
# minutes, meetings/sweeps.py).
POD_HEALTH_CLOCK_FAILURES = env_int("POD_HEALTH_CLOCK_FAILURES", 3, minimum=1)

# --- Celery: Redis carries work; the database is the clock (README "Deploying"). ------------
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL", "redis://127.0.0.1:6379/0", schemes=("redis", "rediss", "redis+socket")
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True  # a killed worker's task is redelivered; every task is idempotent
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# A broker that is down or hung must not hold up a page: the web process only sends nudges
# (pod/foundation/task_queue.py), so it gives up after ~2 s and does not retry; beat's schedule
# does the work a lost nudge would have started. Without these a Redis that accepts connections
# but never answers hangs the request for good.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 2, "socket_connect_timeout": 2}
CELERY_TASK_PUBLISH_RETRY = False
# Our LOGGING (below) stays in charge of the root logger in workers and beat; pod/celery.py puts
# the log scrubber on whatever handlers Celery adds.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "pod.beat_schedule:SynchronisedScheduler"
# Synchronised into django-celery-beat's tables on beat start-up and after `migrate`; an entry
# removed here is disabled there (pod/beat_schedule.py). Each completed run is recorded
# (pod/foundation/heartbeats.py) and watched by /health/monitor/.
CELERY_BEAT_SCHEDULE = {
    "first-meeting-sweep": {"task": "meetings.tasks.first_meeting_sweep", "schedule": 60.0},
    "deliver-alerts": {"task": "meetings.tasks.deliver_alerts", "schedule": 60.0},
    "deliver-messages": {"task": "pod.tasks.deliver_messages", "schedule": 60.0},
    "audit-prescriptions": {"task": "meetings.tasks.audit_prescriptions", "schedule": 300.0},
    "forget-old-submissions": {"task": "pod.tasks.forget_old_submissions", "schedule": 86400.0},
    "forget-old-fhir-exports": {"task": "pod.fhir.tasks.forget_old_exports", "schedule": 3600.0},
    "forget-expired-fhir-tokens": {
        "task": "pod.fhir.tasks.forget_expired_tokens",
        "schedule": 86400.0,
    },
    # The audit's hash chains, daily (manage.py audit_verify does the same by hand).
    "audit-verify": {"task": "pod.tasks.audit_verify", "schedule": 86400.0},
    # An outcome import whose Celery task was lost is sent again (outcomes/importing/jobs.py).
    "resume-outcome-imports": {
        "task": "outcomes.tasks.resume_stalled_outcome_imports",
        "schedule": 300.0,
    },
}

# --- Clinical thresholds (README "Configuration" documents each). ------------------------------
# Elapsed hours from referral received to the first network meeting.
POD_FIRST_MEETING_HOURS = env_float("POD_FIRST_MEETING_HOURS", 24.0, minimum=1)
# Raise `unscheduled` when no meeting is arranged this long after referral.
POD_UNSCHEDULED_AFTER_HOURS = env_float("POD_UNSCHEDULED_AFTER_HOURS", 4.0, minimum=0)
# Raise `at_risk` this long before the due time when nothing is held or scheduled before it.
POD_AT_RISK_LEAD_HOURS = env_float("POD_AT_RISK_LEAD_HOURS", 4.0, minimum=0)
# Network meetings held in an episode before a new medication may be prescribed.
POD_MEETINGS_BEFORE_MEDICATION = env_int("POD_MEETINGS_BEFORE_MEDICATION", 3, minimum=0)
# A held meeting counts towards the medication rule only if it lasted at least this many
# minutes (and at most 8 hours; meetings.medication_rules has the whole definition).
POD_MIN_COUNTED_MEETING_MINUTES = env_int("POD_MIN_COUNTED_MEETING_MINUTES", 20, minimum=1)
if POD_MIN_COUNTED_MEETING_MINUTES >= 8 * 60:
    raise ImproperlyConfigured("POD_MIN_COUNTED_MEETING_MINUTES must be less than 480 (8 hours)")
# A meeting recorded held more than this many hours after it ended is marked "recorded after
# the event" (it still counts; the service manager sees the mark).
POD_RECORDED_AFTER_EVENT_HOURS = env_float("POD_RECORDED_AFTER_EVENT_HOURS", 24.0, minimum=0)
if POD_UNSCHEDULED_AFTER_HOURS >= POD_FIRST_MEETING_HOURS:
    raise ImproperlyConfigured(
        "POD_UNSCHEDULED_AFTER_HOURS must be less than POD_FIRST_MEETING_HOURS"
    )
if POD_AT_RISK_LEAD_HOURS >= POD_FIRST_MEETING_HOURS:
    raise ImproperlyConfigured("POD_AT_RISK_LEAD_HOURS must be less than POD_FIRST_MEETING_HOURS")
POD_FIRST_MEETING_WINDOW = timedelta(hours=POD_FIRST_MEETING_HOURS)
# A person whose active, non-professional network has fewer members than this is flagged as a
# thin network on the team's and the peer's lists (networks.selectors), for network building.
POD_THIN_NETWORK_THRESHOLD = env_int("POD_THIN_NETWORK_THRESHOLD", 3, minimum=1)

# --- Cache: Django's, shared by every web and worker process when POD_CACHE_URL is set. --------
# A Redis URL (a database of its own, e.g. redis://127.0.0.1:6379/1): the dashboards' kept
# figures (below) are then computed once for all processes, and the warm-up reaches the pages.
# Unset: each process keeps its own (Django's local-memory cache). What is kept there is
# aggregate figures and the dashboards' lists of episodes, pickled: whoever can write to that
# Redis can run code in POD's processes, so keep it as private as the database (README
# "Security"). Keys are prefixed with the database's name, so two deployments sharing one Redis
# database never read each other's figures. Short timeouts: a cache that is down or hung costs
# a page one half-second timeout, then each process computes the figures without it for a while
# (outcomes/dashboard/freshness.py).
POD_CACHE_URL = env_str("POD_CACHE_URL", "")
if POD_CACHE_URL:
    env_url("POD_CACHE_URL", "", schemes=("redis", "rediss", "unix"))  # refuses any other URL
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": POD_CACHE_URL,
            "KEY_PREFIX": f"pod:{DATABASES['default']['NAME']}",
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        }
    }

# --- Dashboards (outcomes/dashboard/freshness.py): how long a computed section is reused. -----
# The page says when its figures were computed; 0 computes every request afresh. Django's cache
# holds them: in-process unless POD_CACHE_URL is set (above).
POD_DASHBOARD_FRESH_SECONDS = env_int("POD_DASHBOARD_FRESH_SECONDS", 600, minimum=0)
if POD_CACHE_URL and POD_DASHBOARD_FRESH_SECONDS >= 120:
    # Every half window, Celery recomputes the usual dashboards before their figures run out
    # (outcomes/dashboard/warming.py). Only with a shared cache (a worker's own cache reaches
    # no page) and a window of at least 2 minutes (beat's entries run at most once a minute).
    # A run beat could not start within its interval is dropped; the task also skips a run
    # while another holds its lock, so it takes at most one worker slot.
    CELERY_BEAT_SCHEDULE["warm-dashboards"] = {
        "task": "outcomes.tasks.warm_dashboards",
        "schedule": float(POD_DASHBOARD_FRESH_SECONDS // 2),
        "options": {"expire_seconds": POD_DASHBOARD_FRESH_SECONDS // 2},
    }

# --- Staffing targets (README "Configuration"): the dashboard marks each team against them. ---
# Share of a team's clinical staff who have completed POD training, in percent.
POD_TRAINED_STAFF_TARGET_PERCENT = env_float("POD_TRAINED_STAFF_TARGET_PERCENT", 50.0, minimum=0)
if POD_TRAINED_STAFF_TARGET_PERCENT > 100:
    raise ImproperlyConfigured("POD_TRAINED_STAFF_TARGET_PERCENT must be at most 100")
# Paid peer workers per team (at least), and the range of peer volunteers per team.
POD_PEER_WORKERS_TARGET = env_int("POD_PEER_WORKERS_TARGET", 1, minimum=0)
POD_PEER_VOLUNTEERS_MIN = env_int("POD_PEER_VOLUNTEERS_MIN", 4, minimum=0)
POD_PEER_VOLUNTEERS_MAX = env_int("POD_PEER_VOLUNTEERS_MAX", 5, minimum=0)
if POD_PEER_VOLUNTEERS_MIN > POD_PEER_VOLUNTEERS_MAX:
    raise ImproperlyConfigured(
        "POD_PEER_VOLUNTEERS_MIN must not be more than POD_PEER_VOLUNTEERS_MAX"
    )

# The research export's study ids are an HMAC of the person's id with this key
# (outcomes/research.py): the same person has the same study id in every export for as long as
# the key is kept, and nobody without it can link a study id to a person. Keep it in the secret
# store, apart from the database and its backups, and never change it during the trial.
# Unset (production): the research export is refused, saying why.
POD_RESEARCH_ID_KEY = env_str(
    "POD_RESEARCH_ID_KEY", "insecure-development-research-id-key" if DEBUG else ""
)
if POD_RESEARCH_ID_KEY and not DEBUG and POD_RESEARCH_ID_KEY.startswith("insecure"):
    raise ImproperlyConfigured("POD_RESEARCH_ID_KEY must be a long random value when DEBUG is off")
if POD_RESEARCH_ID_KEY and len(POD_RESEARCH_ID_KEY) < 32:
    raise ImproperlyConfigured("POD_RESEARCH_ID_KEY must be at least 32 characters")

# --- Security basics (README "Security"). --------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
# No SECURE_PROXY_SSL_HEADER: Django would believe X-Forwarded-Proto from any client.
# pod.foundation.middleware.TrustedProxySchemeMiddleware believes it only through the
# POD_TRUSTED_PROXY_COUNT proxies in front of the app.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Content Security Policy (django-csp 4): no inline or third-party script, nothing from a CDN.
# Inline style *attributes* are allowed (a few layout widths); <style> elements are not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # The hash is htmx 2.0.11's own indicator <style>; after an htmx upgrade the browser test
        # tests/pod/test_sign_in_browser.py fails and prints the new one.
        "style-src": ["'self'", "'sha256-faU7yAF8NxuMTNEwVmBz+VcYeIoBQ2EMHW3WaVxCvnk='"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Sessions end after POD_SESSION_IDLE_MINUTES without a request, and POD_SESSION_MAX_HOURS after
# sign-in whatever happens (pod.foundation.middleware.SessionLimitsMiddleware). Sign-out (POST)
# flushes the server-side session.
POD_SESSION_IDLE_MINUTES = env_int("POD_SESSION_IDLE_MINUTES", 30, minimum=1)
POD_SESSION_MAX_HOURS = env_int("POD_SESSION_MAX_HOURS", 12, minimum=1)
SESSION_COOKIE_AGE = POD_SESSION_IDLE_MINUTES * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# A second factor (TOTP app, or a one-time backup code) for every member of staff, admin included
# (pod.foundation.twofactor.TwoFactorMiddleware). Turn off only for local development.
POD_REQUIRE_2FA = env_bool("POD_REQUIRE_2FA", True)
OTP_TOTP_ISSUER = "POD"
# django-otp's own admin never shows keys, QR codes or backup codes (ours shows none either:
# pod/foundation/admin.py).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Lockout after repeated failed sign-ins (django-axes), per username and client address. The
# address comes from X-Forwarded-For only through POD_TRUSTED_PROXY_COUNT proxies (the load
# balancer and/or reverse proxy in front of the app); 0 means "use the connection's address".
POD_TRUSTED_PROXY_COUNT = env_int("POD_TRUSTED_PROXY_COUNT", 0, minimum=0)
# The least-privilege database role the application runs as (manage.py db_app_role).
POD_APP_DB_ROLE = env_str("POD_APP_DB_ROLE", "pod_app")
AXES_CLIENT_IP_CALLABLE = "pod.foundation.middleware.client_ip"
AXES_FAILURE_LIMIT = env_int("POD_LOCKOUT_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("POD_LOCKOUT_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token", "token"]

# --- The FHIR API (pod/fhir; README "Interoperability"). -------------------------------------
# Machine clients get tokens by OAuth 2.0 client credentials (django-oauth-toolkit); each client's
# account holds a role and teams, and the scopes it may be granted follow from the role
# (pod.fhir.scopes). Tokens are short-lived, as SMART Backend Services recommends.
POD_FHIR_TOKEN_SECONDS = env_int("POD_FHIR_TOKEN_SECONDS", 600, minimum=60)
# django-oauth-toolkit's models are swappable; naming the default makes migrations that point
# at them (fhir.ApiClient -> Application) resolvable.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    "SCOPES_BACKEND_CLASS": "pod.fhir.scopes.PodScopes",
    "ACCESS_TOKEN_EXPIRE_SECONDS": POD_FHIR_TOKEN_SECONDS,
    # The OAuth 2.0 Security BCP (RFC 9700) throughout; `check --deploy` warns otherwise. POD
    # uses only client credentials, but nothing weaker is left switched on: tokens are stored
    # hashed, never accepted in a query string, and no implicit or password grant exists.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
# The base of the canonical URLs of POD's own extensions and code systems
# (`<base>/StructureDefinition/<name>`, `<base>/CodeSystem/<name>`): set it to one stable URL
# that every deployment sharing data with the same partners uses.
POD_FHIR_CANONICAL_BASE = env_str("POD_FHIR_CANONICAL_BASE", f"{SITE_URL.rstrip('/')}/fhir")
# Search pages: the default and the largest `_count`.
POD_FHIR_PAGE_SIZE = env_int("POD_FHIR_PAGE_SIZE", 50, minimum=1)
POD_FHIR_MAX_PAGE_SIZE = env_int("POD_FHIR_MAX_PAGE_SIZE", 1000, minimum=1)
if POD_FHIR_PAGE_SIZE > POD_FHIR_MAX_PAGE_SIZE:
    raise ImproperlyConfigured("POD_FHIR_PAGE_SIZE must not be more than POD_FHIR_MAX_PAGE_SIZE")
# Rate limit per client (a token bucket in the database, pod.fhir.rate_limit): a client may make
# POD_FHIR_RATE_BURST requests at once, refilled at POD_FHIR_RATE_PER_MINUTE.
POD_FHIR_RATE_PER_MINUTE = env_float("POD_FHIR_RATE_PER_MINUTE", 300.0, minimum=1)
POD_FHIR_RATE_BURST = env_int("POD_FHIR_RATE_BURST", 100, minimum=1)
# Bulk export files: written here by the worker, served only to the client that asked, deleted
# after POD_FHIR_EXPORT_KEEP_HOURS. Must not be under STATIC_ROOT or any served folder.
POD_FHIR_EXPORT_DIR = Path(env_str("POD_FHIR_EXPORT_DIR", str(BASE_DIR / "var" / "fhir-exports")))
POD_FHIR_EXPORT_KEEP_HOURS = env_int("POD_FHIR_EXPORT_KEEP_HOURS", 24, minimum=1)

# No personal data in the logs (pod/foundation/log_filters.py): every handler redacts query
# strings, emails, numbers, names and exception text, tracebacks included. Django's defaults give
# `django` (printing in DEBUG) and the development server's request log (`django.server`)
# handlers of their own, without the scrubber; they are replaced here (tests/pod/
# test_log_privacy.py fails without these two entries). Workers and beat: pod/celery.py.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "pod.foundation.log_filters.RedactPersonalData"}},
    "formatters": {
        "redacted": {
            "()": "pod.foundation.log_filters.RedactingFormatter",
            "format": "%(levelname)s %(name)s: %(message)s",
        },
        "request_log": {
            "()": "pod.foundation.log_filters.server_formatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact"],
            "formatter": "redacted",
        },
        "request_log": {
            "class": "logging.StreamHandler",
            "filters": ["redact"],
            "formatter": "request_log",
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["request_log"], "level": "INFO", "propagate": False},
        # django-health-check logs every failing check with a traceback; /health/monitor/'s
        # answer says what failed, so only its unexpected errors are worth a line.
        "health_check": {"level": "ERROR"},
    },
}
