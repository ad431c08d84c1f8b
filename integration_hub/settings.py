"""Settings for the integration hub, read from the environment.

HUB_DEMO=1 turns on demo mode: every setting gets a local default (SQLite, a
filesystem broker, the sandboxes on loopback), so the hub runs with no outside
service. Outside demo mode the secrets and service URLs must be given.
"""

from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from integration_hub.env import (
    env_bool,
    env_float,
    env_http_url,
    env_int,
    env_list,
    env_str,
    test_worker_environment,
)

test_worker_environment()  # under pytest-xdist only: this test worker's own Redis and var/

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("HUB_VAR_DIR", str(BASE_DIR / "var")))

DEMO = env_bool("HUB_DEMO", False)


def demo_default(value: str) -> str | None:
    """Return the demo default in demo mode, else None (the variable is required)."""
    return value if DEMO else None


# Off in the demo too: a person trying it meets the hub's own 404 and 500 pages, not
# Django's debug pages (which also show the settings).
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", demo_default("demo-only-secret-key-not-for-production"))
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEMO else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# Behind a TLS-terminating proxy the webhook signature must be checked against
# the URL the vendor used, so trust the proxy's scheme and host headers when told to.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# HTTPS only, outside the demo and DEBUG (both serve plain http on loopback). Behind a
# TLS-terminating proxy this needs BEHIND_PROXY=1, or every request looks like http.
HTTPS_ONLY = not DEBUG and not DEMO
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS_ONLY)
# Load balancers and container health checks ask for /healthz over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS_ONLY)
# Only lets the hub's domain be submitted to browsers' preload list; nothing is sent anywhere.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS_ONLY)

INSTALLED_APPS = [
    "integration_hub.apps.HubAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "simple_history",
    "django_htmx",
    "review_queue",
    "ownership",
    "dashboard",
    "connectors",
    "operations",
    "handoffs",
    "onboarding",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]
# The webhook endpoints' middleware (integration_hub/wsgi.py): HTTPS and the security
# headers, and the allowed-hosts check; a vendor's signed POST needs nothing else.
WEBHOOK_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "integration_hub.urls"
WSGI_APPLICATION = "integration_hub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "integration_hub.permissions.roles",
            ],
            # Plain words for internal codes on every page (integration_hub/labels.py).
            "builtins": ["integration_hub.label_filters"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", demo_default(f"sqlite:///{VAR_DIR / 'demo.sqlite3'}")),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        # Pages check a reused connection before their first query; the webhook path does
        # not (handoffs/webhooks.py says why).
        conn_health_checks=True,
    )
}
# The review queue's covering indexes (INCLUDE first_seen, ...) are PostgreSQL's; the demo's
# SQLite builds them without the included columns, which is all it needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's web, worker and beat share one SQLite file: WAL and a busy
    # timeout let them take turns instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-au"
TIME_ZONE = env_str("TIME_ZONE", "Australia/Sydney")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# DEBUG and the demo serve static files from their folders, with no collectstatic.
STATIC_FROM_SOURCE = DEBUG or DEMO
WHITENOISE_USE_FINDERS = STATIC_FROM_SOURCE
WHITENOISE_AUTOREFRESH = STATIC_FROM_SOURCE
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if STATIC_FROM_SOURCE
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Uploads (delivery evidence, imported spreadsheets) are never served at a public URL:
# evidence goes to office staff through operations' evidence view, in every mode.
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"
# Delivery evidence (photos, PDFs) larger than this is refused with a plain message.
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Webhook bodies above this size are refused with 413 before any parsing.
WEBHOOK_MAX_BODY_BYTES = env_int("WEBHOOK_MAX_BODY_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(WEBHOOK_MAX_BODY_BYTES * 2, 2_621_440)
# Refused webhook requests (bad signature, malformed, too large) are kept for the Inbox
# page with this much of their body, for this many days; past this many a minute from one
# address they are only counted (handoffs/refusals.py).
WEBHOOK_REFUSED_BODY_BYTES = env_int("WEBHOOK_REFUSED_BODY_BYTES", 4096)
WEBHOOK_REFUSED_KEEP_DAYS = env_int("WEBHOOK_REFUSED_KEEP_DAYS", 30)
WEBHOOK_REFUSALS_PER_MINUTE = env_int("WEBHOOK_REFUSALS_PER_MINUTE", 20)

# Vendors. The base URLs are settings so the hub can talk to the sandboxes or
# to any compatible server.
HUBSPOT_API_BASE_URL = env_str(
    "HUBSPOT_API_BASE_URL", "http://127.0.0.1:8100" if DEMO else "https://api.hubapi.com"
)
HUBSPOT_ACCESS_TOKEN = env_str("HUBSPOT_ACCESS_TOKEN", demo_default("demo-hubspot-token") or "")
HUBSPOT_CLIENT_SECRET = env_str(
    "HUBSPOT_CLIENT_SECRET", demo_default("demo-hubspot-client-secret") or ""
)
# Installing the hub as a HubSpot app (OAuth 2.0): the app's client id (its secret is
# HUBSPOT_CLIENT_SECRET), HubSpot's install page, and where HubSpot sends the admin back
# (by default this hub's own callback URL).
HUBSPOT_CLIENT_ID = env_str("HUBSPOT_CLIENT_ID", demo_default("demo-hubspot-client") or "")
HUBSPOT_AUTHORIZE_URL = env_str(
    "HUBSPOT_AUTHORIZE_URL",
    "http://127.0.0.1:8100/oauth/authorize" if DEMO else "https://app.hubspot.com/oauth/authorize",
)
HUBSPOT_REDIRECT_URI = env_str("HUBSPOT_REDIRECT_URI", "")
# The exact URL registered with HubSpot; its signature covers it. Empty means
# "the URL this request arrived at".
HUBSPOT_WEBHOOK_URL = env_str("HUBSPOT_WEBHOOK_URL", "")
HUBSPOT_TIMEOUT_SECONDS = env_int("HUBSPOT_TIMEOUT_SECONDS", 15)
# HubSpot's limit for a private app (100 to 190 calls per 10 s by tier), shared by all workers.
HUBSPOT_CALLS_PER_10_SECONDS = env_int("HUBSPOT_CALLS_PER_10_SECONDS", 100)
# The hub's own HubSpot app id: webhooks carrying it as sourceId echo the hub's writes.
HUBSPOT_APP_ID = env_str("HUBSPOT_APP_ID", "54321" if DEMO else "")
# Where people open records (links from review items); the demo's sandboxes have consoles.
HUBSPOT_APP_URL = env_str(
    "HUBSPOT_APP_URL", "http://127.0.0.1:8100" if DEMO else "https://app.hubspot.com/contacts"
)
XERO_APP_URL = env_str("XERO_APP_URL", "http://127.0.0.1:8200" if DEMO else "https://go.xero.com")
XERO_API_BASE_URL = env_str(
    "XERO_API_BASE_URL",
    "http://127.0.0.1:8200/api.xro/2.0" if DEMO else "https://api.xero.com/api.xro/2.0",
)
# The key Xero shows for the app's webhooks; it signs every delivery.
XERO_WEBHOOK_KEY = env_str("XERO_WEBHOOK_KEY", "demo-xero-webhook-key" if DEMO else "")
# The revenue account code for invoice lines that name no item (or whose item has none).
XERO_SALES_ACCOUNT = env_str("XERO_SALES_ACCOUNT", "200")
XERO_CLIENT_ID = env_str("XERO_CLIENT_ID", "demo-xero-client" if DEMO else "")
XERO_CLIENT_SECRET = env_str("XERO_CLIENT_SECRET", "demo-xero-secret" if DEMO else "")
XERO_TOKEN_URL = env_str(
    "XERO_TOKEN_URL",
    "http://127.0.0.1:8200/connect/token" if DEMO else "https://identity.xero.com/connect/token",
)
# Connecting: Xero's consent page, and the identity API that lists connected organisations.
XERO_AUTHORIZE_URL = env_str(
    "XERO_AUTHORIZE_URL",
    "http://127.0.0.1:8200/identity/connect/authorize"
    if DEMO
    else "https://login.xero.com/identity/connect/authorize",
)
XERO_IDENTITY_URL = env_str(
    "XERO_IDENTITY_URL", "http://127.0.0.1:8200" if DEMO else "https://api.xero.com"
)
# Where Xero sends the admin back after consent; by default this hub's own callback URL.
XERO_REDIRECT_URI = env_str("XERO_REDIRECT_URI", "")
# Apps created after March 2026 must ask for granular scopes.
XERO_SCOPES = env_str(
    "XERO_SCOPES",
    "offline_access accounting.invoices accounting.payments accounting.contacts "
    "accounting.settings.read",
)
# Xero's limits per organisation; the hub stays under them across all its workers.
XERO_MINUTE_LIMIT = env_int("XERO_MINUTE_LIMIT", 60)
XERO_DAY_LIMIT = env_int("XERO_DAY_LIMIT", 5000)
XERO_CONCURRENT_LIMIT = env_int("XERO_CONCURRENT_LIMIT", 5)
# How long one call to Xero may take before the hub gives up on it (and retries later).
XERO_TIMEOUT_SECONDS = env_int("XERO_TIMEOUT_SECONDS", 30)
# A finished job waits this long before invoicing, so jobs finished together share requests.
XERO_INVOICE_GATHER_SECONDS = env_int("XERO_INVOICE_GATHER_SECONDS", 2)
# Which connector plays which role (connectors/registry.py); a second CRM is one more class.
HUB_CONNECTORS = {
    "crm": env_str("HUB_CRM_CONNECTOR", "connectors.hubspot.crm.HubSpotCrm"),
    "finance": env_str("HUB_FINANCE_CONNECTOR", "connectors.xero.finance.XeroFinance"),
    "operations": env_str("HUB_OPERATIONS_CONNECTOR", "connectors.operations.client.JobRegister"),
}
# A changed record waits this long before the engine runs, so changes arriving together
# (a burst of webhooks, a month end) are read and written in batches.
SHARED_FIELDS_GATHER_SECONDS = env_float("SHARED_FIELDS_GATHER_SECONDS", 1.0)
# After a request to create invoices got no answer (a kill, a timeout), Xero may still be
# working on it for this long: an invoice not found by reference before then is awaited,
# not created again.
XERO_SETTLE_SECONDS = env_int("XERO_SETTLE_SECONDS", 60)
# Polling (Xero sends no payment webhooks): how often, and how far back each read overlaps.
XERO_POLL_SECONDS = env_int("XERO_POLL_SECONDS", 60)
XERO_POLL_OVERLAP_SECONDS = env_int("XERO_POLL_OVERLAP_SECONDS", 300)
FIELD_ENCRYPTION_KEYS = env_list(
    "FIELD_ENCRYPTION_KEYS", demo_default("ZGVtby1vbmx5LWtleS1kZW1vLW9ubHkta2V5LTAwMDA=") or ""
)

# Celery: at-least-once delivery. A task is acknowledged only after it ran,
# and a task whose worker died is handed to another worker.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", demo_default("filesystem://"))
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 90)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TIMEZONE = TIME_ZONE
# Longest countdown a retry may ask for; the broker's visibility timeout must
# exceed it or Redis hands the waiting task to a second worker.
HANDOFF_MAX_BACKOFF_SECONDS = env_int("HANDOFF_MAX_BACKOFF_SECONDS", 15 * 60)
HANDOFF_MAX_ATTEMPTS = env_int("HANDOFF_MAX_ATTEMPTS", 6)
HANDOFF_BASE_BACKOFF_SECONDS = env_int("HANDOFF_BASE_BACKOFF_SECONDS", 10)
# How long a worker's claim on a run lasts unless renewed (it renews every third of this);
# a killed worker's runs are taken back after it (at once when the process is provably gone).
HANDOFF_LEASE_SECONDS = env_int("HANDOFF_LEASE_SECONDS", 30)
# The wait when a system asks the hub to slow down without saying for how long.
HANDOFF_WAIT_SECONDS = env_int("HANDOFF_WAIT_SECONDS", 10)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
if CELERY_BROKER_URL.startswith("filesystem://"):
    from integration_hub.demo_broker import broker_folders

    # kombu's filesystem transport, made safe against half-written messages (see the module).
    CELERY_BROKER_TRANSPORT = "integration_hub.demo_broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS |= broker_folders(VAR_DIR / "broker") | {
        # Look for new messages often: a handoff is several hops, each waiting one poll.
        "polling_interval": 0.1,
    }
    # With this polling transport a worker holding its one prefetched task fetches the
    # next only every 2 s (Celery's loop); a burst of 20 tasks took 18 s, with 8 it takes
    # a fraction of a second. Redis (production) has no such wait.
    CELERY_WORKER_PREFETCH_MULTIPLIER = 8
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "sweep-inbox-and-runs": {
        "task": "handoffs.tasks.sweep",
        "schedule": env_int("SWEEP_EVERY_SECONDS", 15),
    },
    "review-daily-digest": {
        "task": "review_queue.tasks.send_daily_digest",
        "schedule": crontab(hour=env_int("DIGEST_HOUR", 7), minute=0),
    },
    "xero-poll": {
        "task": "handoffs.tasks.xero_poll",
        "schedule": float(XERO_POLL_SECONDS),
    },
    "expire-refused-webhooks": {
        "task": "handoffs.tasks.expire_refusals",
        "schedule": crontab(minute=17),
    },
    "worker-heartbeat": {
        "task": "handoffs.tasks.heartbeat",
        "schedule": 30.0,
    },
    "check-the-systems-agree": {
        "task": "handoffs.tasks.reconcile",
        "schedule": crontab(hour=env_int("RECONCILE_HOUR", 2), minute=30),
    },
}
# The nightly check that the systems agree (handoffs/reconcile.py) may run this long; one
# still running after twice as long is taken for dead and raises its "did not finish" item.
RECONCILE_MAX_SECONDS = env_int("RECONCILE_MAX_SECONDS", 60 * 60)
# An event stored but not processed after this long is handed to a worker again.
SWEEP_AFTER_SECONDS = env_int("SWEEP_AFTER_SECONDS", 120)
HEARTBEAT_MAX_AGE_SECONDS = env_int("HEARTBEAT_MAX_AGE_SECONDS", 120)
# /healthz is down when a stored event waited longer than this for the dispatcher.
INBOX_MAX_WAIT_SECONDS = env_int("INBOX_MAX_WAIT_SECONDS", 60)
# How often an open page asks what changed while its tab is visible: the job page its
# invoice, the job list, the review queue and Home their new rows (integration_hub/news.py).
PAGE_POLL_SECONDS = env_int("PAGE_POLL_SECONDS", 5)

# Email for review notifications; the demo prints them to the console.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEMO
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "hub@localhost")
# Links in notifications point here.
HUB_BASE_URL = env_str("HUB_BASE_URL", "http://127.0.0.1:8000")
# An optional Slack-compatible incoming webhook for new review items.
REVIEW_CHAT_WEBHOOK_URL = env_http_url("REVIEW_CHAT_WEBHOOK_URL")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous request gets 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["integration_hub.permissions.IsOfficeStaff"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Integration hub API",
    "DESCRIPTION": "The review queue, handoff runs and jobs. Token or session authentication; "
    "staff only.",
    "VERSION": "1",
    "SERVE_PERMISSIONS": ["integration_hub.permissions.IsOfficeStaff"],
    # Jobs and review items both have a "status": name each set of choices.
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "operations.models.Job.Status",
        "ReviewItemStatusEnum": "review_queue.models.ReviewItem.Status",
    },
}

SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS_ONLY)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS_ONLY)
