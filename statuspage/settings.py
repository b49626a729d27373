"""Settings, read from environment variables (see CONTRACT.md and the README).

With nothing set, the project runs embedded: SQLite, a Celery worker and beat on a filesystem broker (`make
run` starts them), a local-memory cache and emails printed to the console. DATABASE_URL and REDIS_URL switch
on PostgreSQL and Redis.
"""

import contextlib
import os
import re
import secrets
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from statuspage.celery_settings import celery_settings
from statuspage.checks import check_site_url_allowed, url_host
from statuspage.env import (
    env_addresses,
    env_bool,
    env_date,
    env_int,
    env_list,
    env_networks,
    env_ports,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss"))


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if DATABASE_URL:
        raise ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL is set (production)")
    # Embedded default: a random key kept beside the SQLite file, so sessions survive restarts.
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        # make run starts the web server, the worker and beat at once: the first key linked in place wins, and
        # every process reads that one (a worker signing links with another key would break them all).
        draft = path.with_name(f".secret_key.{os.getpid()}")
        draft.write_text(secrets.token_urlsafe(50))
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    return path.read_text().strip()


SECRET_KEY = _secret_key()
# SITE_URL: the absolute base of every link in emails, feeds, the calendar and the APIs. `make run` sets it from
# HOST and PORT unless it is set (statuspage/embedded.py). The site must answer at SITE_URL's host: it is allowed
# by default, and an explicit ALLOWED_HOSTS that leaves it out stops start-up.
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https")).rstrip("/")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", list(dict.fromkeys(["localhost", "127.0.0.1", "[::1]", url_host(SITE_URL)])))
check_site_url_allowed(SITE_URL, ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS = [SITE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "incidents",
    "notifications",
    "api",
]

# ModelBackend signs users in and answers permissions without an object; MembershipBackend answers them on an
# object from the user's role on its page (accounts/backends.py).
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", "accounts.backends.MembershipBackend"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "statuspage.middleware.ContentSecurityPolicyMiddleware",  # before PublicPathMiddleware: on every response
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Public GET/HEAD requests stop here: they need none of the middleware below (see the module).
    "incidents.public_cache.middleware.PublicPathMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.audit.AuditActorMiddleware",  # who acts, for the audit log (the API names its key in the view)
    "django.contrib.messages.middleware.MessageMiddleware",
    "incidents.languages.LanguageMiddleware",  # the language of a form's POST or a sign-in page (not public views)
]

ROOT_URLCONF = "statuspage.urls"
WSGI_APPLICATION = "statuspage.wsgi.application"

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
                "incidents.access.feed_context",
            ],
        },
    },
]

# Database: SQLite in the project by default, PostgreSQL (psycopg 3) through DATABASE_URL.
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from None
    # Tests create their own database; CI names it per run so that runs never share one.
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME") or None}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the Celery worker write to the same file. WAL lets readers run beside a writer; a
    # transaction takes the write lock when it begins (IMMEDIATE), so two read-then-write transactions queue up
    # behind the busy timeout instead of failing at once with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: the public pages are cached by page version (incidents/public_cache/). Redis with CACHE_REDIS_URL,
# which defaults to REDIS_URL's next database: the cache and the Celery broker never share a database.
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", "statuspage")


def _next_redis_db(url: str) -> str:
    """The same Redis server, next database (redis://h:6379/0 → redis://h:6379/1)."""
    parts = urlsplit(url)
    number = parts.path.strip("/") or "0"
    if not number.isdigit() or int(number) >= 15:
        raise ImproperlyConfigured(f"Set CACHE_REDIS_URL: REDIS_URL's database has no next one for the cache: {url!r}")
    return parts._replace(path=f"/{int(number) + 1}").geturl()


CACHE_REDIS_URL = env_url("CACHE_REDIS_URL", schemes=("redis", "rediss")) or (REDIS_URL and _next_redis_db(REDIS_URL))
if CACHE_REDIS_URL:
    CACHES = {
        "default": {
            # django-redis with a circuit breaker: a hung or dead Redis costs one short timeout, then the
            # pages are served without it (from the database) and the failure is logged once a minute.
            "BACKEND": "incidents.public_cache.backend.ResilientRedisCache",
            "LOCATION": CACHE_REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "TIMEOUT": 300,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "statuspage",
            "TIMEOUT": 300,
        }
    }

# How long each process reuses a page's version it read from the cache (ms): a hit then costs no round trip
# to Redis; other processes see a change within this time (the writing process at once). 0: ask every time.
PUBLIC_STATE_REUSE_MS = env_int("PUBLIC_STATE_REUSE_MS", 500, minimum=0, maximum=5000)

# Non-public pages (incidents/access.py): how long a visitor's access cookie lasts, and a sign-in link.
PAGE_ACCESS_DAYS = env_int("PAGE_ACCESS_DAYS", 30, minimum=1, maximum=365)
PAGE_ACCESS_LINK_MINUTES = env_int("PAGE_ACCESS_LINK_MINUTES", 60, minimum=5, maximum=7 * 24 * 60)

# Celery: the broker, the task limits and beat's schedule (statuspage/celery_settings.py).
globals().update(celery_settings(REDIS_URL, BASE_DIR))

# Notifications: outbound emails per second, shared by all workers through Redis (0: no limit).
NOTIFICATIONS_RATE_LIMIT = env_int("NOTIFICATIONS_RATE_LIMIT", 10, minimum=0)
# A claimed chunk with no heartbeat for this long belongs to a dead worker (the sweeper runs every 15 s).
NOTIFICATIONS_STUCK_AFTER_SECONDS = env_int("NOTIFICATIONS_STUCK_AFTER_SECONDS", 45, minimum=5)
# Webhook and chat endpoints (notifications/endpoints.py): the SSRF guard refuses loopback, private, link-local
# and metadata addresses unless one of these CIDR ranges holds them; ports other than 80 and 443 only where
# WEBHOOK_ALLOWED_PORTS lists them (or inside an allowed range). A POST gets WEBHOOK_TIMEOUT seconds in all.
WEBHOOK_ALLOWED_NETWORKS = env_networks("WEBHOOK_ALLOWED_NETWORKS")
WEBHOOK_ALLOWED_PORTS = env_ports("WEBHOOK_ALLOWED_PORTS", [80, 443])
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 30, minimum=1, maximum=120)
# Behind reverse proxies, the client address for the per-IP limits (notifications.ratelimit.client_ip):
# TRUSTED_PROXY_HOPS=N takes the Nth address from the right of X-Forwarded-For (each proxy appends the address it
# saw; the left entries are the client's to forge), CLIENT_IP_HEADER names another header a proxy sets (X-Real-IP).
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER", "")
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0, minimum=0, maximum=10)

# Email: the console without EMAIL_HOST, SMTP with it; EMAIL_BACKEND overrides both.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "status@localhost")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The public site's languages (incidents/languages.py): each at its own address (/fr/…), the page's default
# language (Page.default_language) also without a code. The admin and the APIs stay in English.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("pt-br", "Português (Brasil)"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["statuspage.formats"]  # dates and times per language (statuspage/formats/__init__.py)
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if not (STATIC_ROOT / "staticfiles.json").exists():
    # Not collected yet (a fresh checkout run without `make run`, a test's own processes): serve the sources as they
    # are, by their plain names, rather than answer 500 for a missing manifest. `collectstatic` switches this off.
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    WHITENOISE_USE_FINDERS = True

# Security (README, Production). An https SITE_URL turns on secure cookies, HSTS and the redirect to https; each
# can be set. X-Forwarded-Proto is trusted only when TRUST_X_FORWARDED_PROTO says a proxy overwrites it.
HTTPS = SITE_URL.startswith("https://")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
# includeSubDomains covers the subdomains of the status page's own host (e.g. *.status.example.com) only.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
# Preloading commits a whole domain to https in browsers for good: the domain owner opts in, never a default.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = ["security.W021"]  # "SECURE_HSTS_PRELOAD is not True": off by choice, see above
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy of every response (statuspage.middleware): no inline script or style anywhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

# Errors: the console always; with ADMINS ("Ops <ops@example.com>,dev@example.com") a server error (500) is also
# emailed to them, as Django's mail_admins does.
ADMINS = env_addresses("ADMINS")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_SUBJECT_PREFIX = "[Status page] "
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's own "django" logger (console when DEBUG, mail_admins) is replaced: errors reach the root's console
    # once, and request errors the admins once.
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"handlers": ["mail_admins"], "level": "ERROR", "propagate": True},
    },
}

# Static publishing (incidents/publishing): file:///srv/status or s3://bucket/prefix; unset: off.
PUBLISH_TARGET = env_str("PUBLISH_TARGET", "") or None
if PUBLISH_TARGET:
    from incidents.publishing.target import TargetError, parse_target

    try:
        parse_target(PUBLISH_TARGET)
    except TargetError as exc:
        raise ImproperlyConfigured(f"PUBLISH_TARGET {exc}") from None

# Uptime: how much a minute of partial outage counts against uptime (a major outage counts 1).
UPTIME_PARTIAL_WEIGHT = 0.3

# The public pages: how long a visitor's browser or a CDN may reuse a response without asking again.
PUBLIC_CACHE_MAX_AGE = env_int("PUBLIC_CACHE_MAX_AGE", 0, minimum=0, maximum=3600)

# The APIs (api/): public v2 responses may be reused this long; the manage API's limit per key.
API_CACHE_MAX_AGE = env_int("API_CACHE_MAX_AGE", 10, minimum=0, maximum=3600)
# The earliest display time an update may carry (imported histories go back years).
EARLIEST_DISPLAY_DATE = env_date("EARLIEST_DISPLAY_DATE", date(1990, 1, 1))
# `?api_key=` in the URL (Statuspage's clients use it); keys in URLs end up in logs: set false to refuse them.
API_KEY_IN_QUERY = env_bool("API_KEY_IN_QUERY", True)
API_RATE_LIMIT = env_str("API_RATE_LIMIT", "1000/minute")
if not re.fullmatch(r"[1-9][0-9]*/(second|minute|hour|day)", API_RATE_LIMIT):
    raise ImproperlyConfigured("API_RATE_LIMIT must look like 1000/minute (per second, minute, hour or day)")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasPermissions"],
    "DEFAULT_THROTTLE_CLASSES": ["api.auth.ApiKeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "api.inputs.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Status page API",
    "DESCRIPTION": "Statuspage-compatible public API v2 (no authentication) and manage API v1 "
    "(header `Authorization: OAuth <api key>`).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ComponentStatusEnum": "incidents.choices.ComponentStatus",
        "IncidentStatusEnum": "incidents.choices.IncidentStatus",
        "ImpactEnum": "incidents.choices.Impact",
        "IndicatorEnum": "incidents.choices.Indicator",
        "IncidentOrMaintenanceStatusEnum": "incidents.choices.ALL_STATUSES",
    },
    # The manage paths' `.json` twins answer the same: described once, without the suffix.
    "PREPROCESSING_HOOKS": ["api.schema.without_json_twins"],
}
