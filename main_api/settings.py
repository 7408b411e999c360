"""Settings of the main API, read once from the environment.

Each environment variable is declared once, with its type, default, help and group, in
``main_api.declarations`` (``MAIN_API``); this module reads them all at once and builds Django's
settings from them. A value that does not parse ends the start with a message naming the
variable and the value.

Production is the default: DEBUG is off and ``DJANGO_SECRET_KEY`` must be set. A
developer machine says so explicitly with ``DJANGO_ENV=dev`` (or ``DJANGO_DEBUG=1``);
the test run selects its own settings module (``tests/settings.py``), which makes it ``test``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured

from main_api.common.logging_setup import logging_config
from main_api.declarations import MAIN_API, NOT_PRODUCTION
from shared import outputs
from shared.config import SettingError
from shared.sizes import BACKGROUNDS, ImageFormat  # constants of the contract: no outputs file is read

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def _project_path(raw: str) -> Path:
    """A path from the environment; relative ones are relative to the project root."""
    path = Path(raw)
    return path if path.is_absolute() else BASE_DIR / path


class SettingsError(ImproperlyConfigured, SystemExit):
    """A setting the operator must fix: still an ImproperlyConfigured to code that catches one,
    but a command line that lets it through ends with its one-line message, not a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = f"ImproperlyConfigured: {message}"  # what the interpreter prints; exit status 1


def declared_values(env: Mapping[str, str]) -> dict[str, Any]:
    """``{name: value}`` of every setting of ``MAIN_API`` in ``env``. Raises :class:`SettingsError`
    naming the variable and the value that does not parse."""
    try:
        return MAIN_API.read(env)
    except SettingError as e:
        raise SettingsError(str(e)) from None


#: Every declared setting, read once (``main_api.declarations``).
ENV = declared_values(os.environ)
#: The declared settings the apps read under their own names, as read (``settings.MAX_UPLOAD_BYTES``,
#: ...); what each does: main_api/declarations.py, docs/reference/configuration.md. The others are
#: turned into Django's settings below.
AS_DECLARED = (
    "MAX_UPLOAD_BYTES", "MAX_IMAGE_PIXELS", "MAX_IMAGE_FRAMES", "MAX_JPEG_SCANS", "DIRECT_UPLOAD_SECONDS",
    "REQUEST_BODY_TIMEOUT_SECONDS",
    "UPLOAD_THROTTLE_RATE", "FAILED_RETENTION_DAYS", "UPLOAD_EVENT_TICKET_SECONDS", "UPLOAD_EVENTS_POLL_SECONDS",
    "UPLOAD_EVENTS_MAX_STREAMS", "UPLOAD_EVENTS_STREAM_LEASE_SECONDS", "UPLOAD_EVENTS_KEEPALIVE_SECONDS",
    "MEDIA_PROXY_TIMEOUT",
    "REPLACE_URLS_INTERVAL_SECONDS", "MEDIA_VM_STATUS_TIMEOUT", "MEDIA_PENDING_LIST_SIZE", "MEDIA_WAKEUP_LIST",
    "METRICS_TOKEN", "PROMETHEUS_MULTIPROC_DIR",
    "ARTWORK_LIMIT", "ARTWORK_CATEGORIES", "ARTWORK_MAX_TAGS", "ARTWORK_TAG_MAX_CHARS",
    "URL_IMPORT_TIMEOUT_SECONDS", "URL_IMPORT_ALLOWED_HOSTS", "URL_IMPORT_MAX_IN_FLIGHT", "FORWARDED_ALLOW_IPS",
)
globals().update({name: ENV[name] for name in AS_DECLARED})
DJANGO_ENV = ENV["DJANGO_ENV"].lower()
DEBUG = ENV["DJANGO_DEBUG"]

# The outputs configuration (sizes and presets, shared.outputs: MEDIA_OUTPUTS_FILE, the same file
# as the media VM's), loaded and validated as the service starts: a bad file ends the command with
# its one-line reason. The sizes the schema enumerates (SPECTACULAR_SETTINGS) are this file's.
try:
    MEDIA_OUTPUTS_FILE = outputs.start().source
except outputs.OutputsConfigError as e:
    raise SettingsError(f"MEDIA_OUTPUTS_FILE: {e}") from None

SECRET_KEY = ENV["DJANGO_SECRET_KEY"]
if not SECRET_KEY:
    if DEBUG or DJANGO_ENV in NOT_PRODUCTION:
        SECRET_KEY = "insecure-dev-only-key-never-use-in-production"  # dev/test only
    else:
        raise SettingsError(
            "DJANGO_SECRET_KEY is not set. Production mode (DJANGO_DEBUG off) needs a secret key; "
            "set DJANGO_SECRET_KEY, or on a developer machine use make run's settings: "
            "make manage ARGS=<command> (or DJANGO_ENV=dev)."
        )

ALLOWED_HOSTS = ENV["DJANGO_ALLOWED_HOSTS"]
if DJANGO_ENV == "test":
    ALLOWED_HOSTS.append("testserver")

INSTALLED_APPS = [
    "main_api.common.admin_site.AdminConfig",  # django.contrib.admin with operations pages (the dashboard)
    "django.contrib.auth",
    "axes",  # lockout after repeated failed logins (the admin's)
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",  # CORS for frontends on another origin (CORS_ALLOWED_ORIGINS)
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "main_api.common",
    "main_api.users",
    "main_api.media",
    "main_api.artworks",
    "main_api.frontend",  # the top layer: <smart-image>, {% smart_picture %}, the demo site at /
]

MIDDLEWARE = [
    # first: everything after them logs with the request id and is timed
    "main_api.common.middleware.RequestIdMiddleware",
    "main_api.common.middleware.MetricsMiddleware",
    # before anything that answers, authenticates or refuses: it answers a preflight itself (never
    # a 401) and puts the CORS headers on every answer, a 404, a 405 or a static file's included.
    # Only with origins to allow: without, answers stay as they were (no Vary: Origin on images)
    *(["corsheaders.middleware.CorsMiddleware"] if ENV["CORS_ALLOWED_ORIGINS"] else []),
    "django.middleware.security.SecurityMiddleware",
    "main_api.common.middleware.MediaVmErrorShapeMiddleware",  # /api/media/* errors: "success": false too
    "main_api.common.middleware.RefusedMethodsMiddleware",  # TRACE: 405 on every path
    "main_api.common.middleware.JsonNotFoundMiddleware",  # an unknown URL: JSON 404, DEBUG or not
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # last, as django-axes asks: answers a locked-out login attempt with 429
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "main_api.urls"
WSGI_APPLICATION = "main_api.wsgi.application"
ASGI_APPLICATION = "main_api.asgi.application"
# The API's own routes carry no trailing slash and are matched with or without one;
# redirecting a PATCH to add a slash would drop its body.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------

DATABASE_URL = ENV["DATABASE_URL"]
# 0: a connection per request. Under ASGI each request's sync code runs in a thread of its own,
# and a persistent connection would stay behind with that thread (Django's docs: disable
# persistent connections in async mode; put a pooler in front of the database to save connects).
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=ENV["DATABASE_CONN_MAX_AGE"])
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db["NAME"] and _db["NAME"] != ":memory:":
        _sqlite_path = _project_path(_db["NAME"])
        _sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        _db["NAME"] = str(_sqlite_path)
    _db["CONN_MAX_AGE"] = 0
    # Several processes write (gunicorn workers, the scheduler): IMMEDIATE takes the write
    # lock at BEGIN, so a reader never fails to upgrade, and WAL lets readers through.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not the shared in-memory database: threads of the concurrency tests then wait
    # on SQLite's lock instead of failing with "database table is locked".
    _db["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"main_api_test_{os.getpid()}.sqlite3")}
elif _db["ENGINE"] == "django.db.backends.mysql":
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].setdefault("charset", "utf8mb4")
    _db["OPTIONS"].setdefault("init_command", "SET sql_mode='STRICT_TRANS_TABLES'")
    # One test database per test process: two runs on one server (a developer's and CI's, or
    # two checkouts) would otherwise drop each other's test_<name> mid-run.
    _db["TEST"] = {"NAME": f"test_{_db['NAME']}_{os.getpid()}", "CHARSET": "utf8mb4",
                   "COLLATION": "utf8mb4_unicode_ci"}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username or address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
if DJANGO_ENV == "test":
    # Hashing dominates user creation; tests create many users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- cache (the upload budget) ------------------------------------------------------------

#: Redis (``redis://host:6379/0``) for the cache when set; else a table of the main database
#: (``django_cache``, made by ``migrate``). Either way every process and host shares it.
REDIS_URL = ENV["REDIS_URL"]
CACHE_KEY_PREFIX = ENV["CACHE_KEY_PREFIX"]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            # an unreachable Redis costs a request half a second, then the throttle fails open
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            # culling past MAX_ENTRIES would drop live budgets; expired rows are culled first anyway
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    }

# --- static files (the admin's) -----------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = _project_path(ENV["STATIC_ROOT"])
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing one on every start
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # "temp_images": the temp originals and direct uploads, set with TEMP_STORAGE below
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or DJANGO_ENV == "test"
            else "main_api.common.static_storage.StaticFilesStorage"  # hashed names, ES module imports too
        )
    },
}

# --- security ------------------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = ENV["DJANGO_CSRF_TRUSTED_ORIGINS"]

# --- CORS (django-cors-headers): frontends on another origin, with the user's token ----------

#: Exact origins only: no regexes, no wildcard.
CORS_ALLOWED_ORIGINS = ENV["CORS_ALLOWED_ORIGINS"]
# No credentials (no Access-Control-Allow-Credentials): another origin signs in with the user's
# token (Authorization: Token ...), never the session. The session cookie is SameSite=Lax, so it
# would only travel from a same-site origin (app.example.org to api.example.org, localhost:3000 to
# localhost:8000) and never from another site; and a cookie-authenticated cross-origin write would
# also need that origin in CSRF_TRUSTED_ORIGINS. A token is one explicit way that works from anywhere.
CORS_ALLOW_CREDENTIALS = False
#: django-cors-headers' defaults (authorization, content-type, x-csrftoken, ...) plus what an SSE
#: client that is not the browser's EventSource sends on a reconnect.
CORS_ALLOW_HEADERS = (*cors_default_headers, "last-event-id")
#: The answers' headers a page on another origin may read: the wait of a 429 or 503, the request
#: id to quote in a bug report, a created resource's URL.
CORS_EXPOSE_HEADERS = ("Retry-After", "X-Request-ID", "Location")

#: Production mode: neither a developer machine (DJANGO_ENV=dev, DJANGO_DEBUG=1) nor a test run.
PRODUCTION = not DEBUG and DJANGO_ENV not in NOT_PRODUCTION
#: Plain HTTP on purpose (docker compose on localhost, test servers): no Secure cookies, no HSTS.
#: Production mode is HTTPS behind a TLS proxy unless this says otherwise; dev and tests are plain.
INSECURE_HTTP = not PRODUCTION if ENV["DJANGO_INSECURE_HTTP"] is None else ENV["DJANGO_INSECURE_HTTP"]
if not INSECURE_HTTP:
    # nginx terminates TLS and sets X-Forwarded-Proto (deploy/nginx/main_api.conf); the ASGI edge
    # drops the header from any peer not in FORWARDED_ALLOW_IPS (main_api.common.client_address).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = ENV["DJANGO_HSTS_SECONDS"]
    SECURE_HSTS_INCLUDE_SUBDOMAINS = ENV["DJANGO_HSTS_INCLUDE_SUBDOMAINS"]
    SECURE_HSTS_PRELOAD = ENV["DJANGO_HSTS_PRELOAD"]

# --- login lockout (django-axes: the admin's login and /login, main_api.common.lockout) --------

#: Failed logins after which a username, and separately an address, is locked out.
AXES_FAILURE_LIMIT = ENV["LOGIN_FAILURE_LIMIT"]
#: Minutes a lockout lasts after the last failure; 0: until an operator unlocks it (README).
_cooloff_minutes = ENV["LOGIN_COOLOFF_MINUTES"]
AXES_COOLOFF_TIME = timedelta(minutes=_cooloff_minutes) if _cooloff_minutes > 0 else None
# each on its own: one username from anywhere, and one address trying any usernames
AXES_LOCKOUT_PARAMETERS = "main_api.common.lockout.lockout_parameters"
# axes' reset would clear the address's failures against every username too (GOTCHAS):
# main_api.common.lockout.success_reset clears those of the username that signed in, only
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "main_api.common.lockout.lockout_response"
# the client address as the ASGI edge resolved it from FORWARDED_ALLOW_IPS (main_api.common.client_address)
AXES_CLIENT_IP_CALLABLE = "main_api.common.client_address.client_address"

#: Deploy checks (``check --deploy``) that do not apply here, each with its reason.
SILENCED_SYSTEM_CHECKS = [
    # SECURE_SSL_REDIRECT: nginx redirects port 80 to HTTPS; the app's own port is on loopback,
    # where the media VM, health checks and the scheduler reach it over plain HTTP.
    "security.W008",
]
if not INSECURE_HTTP and not SECURE_HSTS_INCLUDE_SUBDOMAINS:
    # includeSubDomains binds every subdomain of the operator's domain to HTTPS: their decision
    # (DJANGO_HSTS_INCLUDE_SUBDOMAINS=1), not this app's.
    SILENCED_SYSTEM_CHECKS.append("security.W005")
if not INSECURE_HTTP and not SECURE_HSTS_PRELOAD:
    # preload lists are domain-wide and hard to leave: the operator opts in (DJANGO_HSTS_PRELOAD=1).
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# --- uploads -------------------------------------------------------------------------------

TEMP_IMAGES_DIR = _project_path(ENV["TEMP_IMAGES_DIR"])
#: ``main_api.media.intake.temp_storage`` is the only reader (through ``STORAGES["temp_images"]``).
TEMP_STORAGE = ENV["TEMP_STORAGE"].lower()

_TEMP_SETTINGS = {s.name for s in MAIN_API if s.name.startswith("TEMP_S3_")}


def temp_storage_config(env: Mapping[str, str]) -> dict[str, Any]:
    """The ``temp_images`` entry of ``STORAGES`` for ``TEMP_STORAGE`` and the ``TEMP_S3_*``
    variables of ``env``, validated: a :class:`SettingsError` names the setting to fix."""

    def get(name: str) -> str:
        try:
            return str(MAIN_API.value(name, env)) if name in _TEMP_SETTINGS else env.get(name, "").strip()
        except SettingError as e:
            raise SettingsError(str(e)) from None

    kind = get("TEMP_STORAGE").lower() or "local"
    if kind == "local":
        return {"BACKEND": "main_api.media.intake.temp_storage.LocalTempStorage"}
    if kind != "s3":
        raise SettingsError(f"TEMP_STORAGE must be local or s3, got {kind!r}")
    bucket = get("TEMP_S3_BUCKET")
    if not bucket:
        raise SettingsError("TEMP_STORAGE=s3 needs TEMP_S3_BUCKET (the bucket every main API host shares)")
    endpoint = get("TEMP_S3_ENDPOINT_URL") or None
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise SettingsError(f"TEMP_S3_ENDPOINT_URL must be an http(s) URL, got {endpoint!r}")
    # neither: django-storages, then boto3's own chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
    # ~/.aws, an instance role)
    key_id, secret = get("TEMP_S3_ACCESS_KEY_ID") or None, get("TEMP_S3_SECRET_ACCESS_KEY") or None
    if (key_id is None) != (secret is None):
        raise SettingsError("TEMP_S3_ACCESS_KEY_ID and TEMP_S3_SECRET_ACCESS_KEY go together: set both or neither "
                            "(neither: the standard AWS environment and credential chain)")
    prefix = get("TEMP_S3_PREFIX").strip("/")
    if prefix and (".." in prefix.split("/") or "//" in prefix):
        raise SettingsError(f"TEMP_S3_PREFIX must be a plain key prefix (no '..', no '//'), got {prefix!r}")
    style = get("TEMP_S3_ADDRESSING_STYLE").lower() or None
    if style not in (None, "auto", "path", "virtual"):
        raise SettingsError(f"TEMP_S3_ADDRESSING_STYLE must be auto, path or virtual, got {style!r}")
    return {
        "BACKEND": "main_api.media.intake.temp_storage.S3TempStorage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint,
            "region_name": get("TEMP_S3_REGION") or get("AWS_DEFAULT_REGION") or None,
            **({"access_key": key_id, "secret_key": secret} if key_id else {}),
            "location": prefix,
            "addressing_style": style,
            "default_acl": None,  # private: only the main API reads, with its credentials
            "file_overwrite": True,  # names are generated and unique: no HEAD before each write
        },
    }


STORAGES["temp_images"] = temp_storage_config(os.environ)
# The size limit is enforced while the body is read (FILE_UPLOAD_MAX_MEMORY_SIZE does not
# cap anything, it only picks memory or disk), so it comes first.
FILE_UPLOAD_HANDLERS = [
    "main_api.media.intake.multipart.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
UPLOAD_EVENT_RETENTION_HOURS = max(24, ENV["UPLOAD_EVENT_RETENTION_HOURS"])  # at least a day of replay

# --- the media VM ---------------------------------------------------------------------------

#: One key, or several while rotating (``MEDIA_API_KEY``); any of them is accepted.
MEDIA_API_KEYS = ENV["MEDIA_API_KEY"]
SMART_MEDIA_BASE_URL = ENV["SMART_MEDIA_BASE_URL"].rstrip("/")
MEDIA_BACKEND_URL = ENV["MEDIA_BACKEND_URL"].rstrip("/")

# --- observability ---------------------------------------------------------------------------

LOG_FORMAT = ENV["LOG_FORMAT"] or ("text" if DJANGO_ENV in NOT_PRODUCTION else "json")
LOG_LEVEL = ENV["MAIN_API_LOG_LEVEL"]

# --- Django REST framework ---------------------------------------------------------------

_renderers = ["rest_framework.renderers.JSONRenderer"]
if DEBUG:
    _renderers.append("rest_framework.renderers.BrowsableAPIRenderer")
REST_FRAMEWORK = {
    # the token first (a 401 names it); the session (with CSRF on writes) for the demo site's pages
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "main_api.common.authentication.UserTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": _renderers,
    "DEFAULT_PARSER_CLASSES": [
        "main_api.common.parsers.JSONParser",  # a too deeply nested body is a 400, not a 500
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "main_api.common.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "oaf-media main API",
    "DESCRIPTION": (
        "Users upload images to PATCH /users/me; the media VM works the queue through the "
        "key-protected /api/media/* endpoints; /api/images/{media_id} serves the variants."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our static files: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,  # multipart file fields appear as binary in requests
    "PREPROCESSING_HOOKS": ["main_api.common.schema.include_plain_views"],
    # the default (enum components), then nullable nested objects in the form strict validators read
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "main_api.common.schema.nullable_objects_as_one_of"],
    # one schema name for each of the contract's choice sets, wherever a serializer uses it
    "ENUM_NAME_OVERRIDES": {
        # an import path: read when the schema is made, from the outputs file the service started with
        "ImageSizeEnum": "shared.sizes.SIZE_NAMES",
        "ImageFormatEnum": [fmt.value for fmt in ImageFormat],
        "BackgroundEnum": list(BACKGROUNDS),
    },
}

LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
