"""Settings of the main API, read once from the environment.

Production is the default: DEBUG is off and ``DJANGO_SECRET_KEY`` must be set. A
developer machine says so explicitly with ``DJANGO_ENV=dev`` (or ``DJANGO_DEBUG=1``);
a pytest run is recognised on its own so that ``pytest`` works with no environment.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from main_api.common.logging_setup import logging_config
from shared.outputs import OutputsConfigError
from shared.outputs import current as outputs_current

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def _env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in ("1", "true", "yes", "on")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError as e:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from e


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError as e:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from e


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _project_path(raw: str) -> Path:
    """A path from the environment; relative ones are relative to the project root."""
    path = Path(raw)
    return path if path.is_absolute() else BASE_DIR / path


# pytest-django imports these settings before any conftest runs, so a test run cannot
# announce itself through the environment; it is recognised here instead.
RUNNING_TESTS = "pytest" in sys.modules
DJANGO_ENV = os.environ.get("DJANGO_ENV", "test" if RUNNING_TESTS else "production").strip().lower()
DEBUG = _env_bool("DJANGO_DEBUG", default=False)

class SettingsError(ImproperlyConfigured, SystemExit):
    """A setting the operator must fix: still an ImproperlyConfigured to code that catches one,
    but a command line that lets it through ends with its one-line message, not a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = f"ImproperlyConfigured: {message}"  # what the interpreter prints; exit status 1


# The outputs configuration (sizes and presets, shared.outputs: MEDIA_OUTPUTS_FILE, the same file
# as the media VM's), validated at start: a bad file ends the command with its one-line reason.
try:
    MEDIA_OUTPUTS_FILE = outputs_current().source
except OutputsConfigError as e:
    raise SettingsError(f"MEDIA_OUTPUTS_FILE: {e}") from None
from shared.sizes import BACKGROUNDS, SIZE_NAMES, ImageFormat  # noqa: E402 - after the check above

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or DJANGO_ENV in ("dev", "development", "test"):
        SECRET_KEY = "insecure-dev-only-key-never-use-in-production"  # dev/test only
    else:
        raise SettingsError(
            "DJANGO_SECRET_KEY is not set. Production mode (DJANGO_DEBUG off) needs a secret key; "
            "set DJANGO_SECRET_KEY, or on a developer machine use make run's settings: "
            "make manage ARGS=<command> (or DJANGO_ENV=dev)."
        )

ALLOWED_HOSTS = _env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
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
    "django.middleware.security.SecurityMiddleware",
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

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///var/main_api.sqlite3")
# 0: a connection per request. Under ASGI each request's sync code runs in a thread of its own,
# and a persistent connection would stay behind with that thread (Django's docs: disable
# persistent connections in async mode; put a pooler in front of the database to save connects).
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=_env_int("DATABASE_CONN_MAX_AGE", 0))
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
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "oaf")
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
STATIC_ROOT = _project_path(os.environ.get("STATIC_ROOT", "var/static"))
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
CSRF_TRUSTED_ORIGINS = _env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

#: Production mode: neither a developer machine (DJANGO_ENV=dev, DJANGO_DEBUG=1) nor a test run.
PRODUCTION = not DEBUG and DJANGO_ENV not in ("dev", "development", "test")
#: Plain HTTP on purpose (docker compose on localhost, test servers): no Secure cookies, no HSTS.
#: Production mode is HTTPS behind a TLS proxy unless this says otherwise; dev and tests are plain.
INSECURE_HTTP = _env_bool("DJANGO_INSECURE_HTTP", default=not PRODUCTION)
if not INSECURE_HTTP:
    # nginx terminates TLS and sets X-Forwarded-Proto (deploy/nginx/main_api.conf); gunicorn
    # listens on loopback only, so no client can send this header past it.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = _env_int("DJANGO_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS")
    SECURE_HSTS_PRELOAD = _env_bool("DJANGO_HSTS_PRELOAD")

# --- login lockout (django-axes; the admin's login is the only password endpoint) ------------

#: Failed logins after which a username, and separately an address, is locked out.
AXES_FAILURE_LIMIT = _env_int("LOGIN_FAILURE_LIMIT", 5)
#: Minutes a lockout lasts after the last failure; 0: until an operator unlocks it (README).
_cooloff_minutes = _env_int("LOGIN_COOLOFF_MINUTES", 15)
AXES_COOLOFF_TIME = timedelta(minutes=_cooloff_minutes) if _cooloff_minutes > 0 else None
# each on its own: one username from anywhere, and one address trying any usernames
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True  # a right password clears the failures of that username and address
AXES_LOCKOUT_CALLABLE = "main_api.common.lockout.lockout_response"
if INSECURE_HTTP:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
else:
    # behind nginx every request comes from 127.0.0.1: the client is the address nginx appended
    # to X-Forwarded-For (the right-most; whatever a client put to its left is ignored)
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_ORDER = "right-most"

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

MAX_UPLOAD_BYTES = _env_int("MAX_UPLOAD_BYTES", 5 * 1024 * 1024)
#: Width x height above which an upload is refused before it is decoded.
MAX_IMAGE_PIXELS = _env_int("MAX_IMAGE_PIXELS", 100_000_000)
#: Most frames an animated upload may have (the media VM uses the first; more is a decoding cost bomb).
MAX_IMAGE_FRAMES = _env_int("MAX_IMAGE_FRAMES", 500)
TEMP_IMAGES_DIR = _project_path(os.environ.get("TEMP_IMAGES_DIR", "var/temp_images"))
#: Where temp originals (and direct uploads) wait for the media VM: ``local`` (``TEMP_IMAGES_DIR`` on
#: this host's disk; one main API host only) or ``s3`` (an S3-compatible bucket every main API host
#: reads: AWS S3, Cloudflare R2, MinIO; the ``TEMP_S3_*`` settings). ``main_api.media.intake.temp_storage``
#: is the only reader.
TEMP_STORAGE = os.environ.get("TEMP_STORAGE", "local").strip().lower() or "local"
#: Seconds a direct-upload URL (``main_api.media.intake.direct_uploads``) stays valid.
DIRECT_UPLOAD_SECONDS = _env_int("DIRECT_UPLOAD_SECONDS", 300)
if not 10 <= DIRECT_UPLOAD_SECONDS <= 7 * 24 * 3600:
    raise SettingsError(f"DIRECT_UPLOAD_SECONDS must be between 10 and 604800, got {DIRECT_UPLOAD_SECONDS}")


def temp_storage_config(env: Mapping[str, str]) -> dict[str, Any]:
    """The ``temp_images`` entry of ``STORAGES`` for ``TEMP_STORAGE`` and the ``TEMP_S3_*``
    variables of ``env``, validated: a :class:`SettingsError` names the setting to fix."""

    def get(name: str) -> str:
        return env.get(name, "").strip()

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
#: Seconds a request body may stall (no bytes arriving) before the API answers 408 and closes.
REQUEST_BODY_TIMEOUT_SECONDS = _env_float("REQUEST_BODY_TIMEOUT_SECONDS", 30.0)
#: Files per user and period (DRF rate syntax), counted in the shared cache below
#: (main_api.common.throttling): a PATCH with six images costs six.
UPLOAD_THROTTLE_RATE = os.environ.get("UPLOAD_THROTTLE_RATE", "60/min")
#: Days a failed upload's temp original is kept, so that its owner can retry it; then swept
#: (``python -m main_api sweep_failed``, also run by ``run_scheduler``).
FAILED_RETENTION_DAYS = _env_int("FAILED_RETENTION_DAYS", 7)
#: Live upload events (``GET /api/uploads/events``): kept this long for ``Last-Event-ID`` replay
#: (at least 24 h), then swept by ``run_scheduler``.
UPLOAD_EVENT_RETENTION_HOURS = max(24, _env_int("UPLOAD_EVENT_RETENTION_HOURS", 48))
#: Seconds a stream ticket (``POST /api/uploads/events/ticket``) is valid, reconnects included.
UPLOAD_EVENT_TICKET_SECONDS = _env_int("UPLOAD_EVENT_TICKET_SECONDS", 600)
#: Seconds between two looks of a process's event poller for new events: without Redis the
#: delivery delay; with it, only the safety net (a Redis announcement wakes it at once).
UPLOAD_EVENTS_POLL_SECONDS = _env_float("UPLOAD_EVENTS_POLL_SECONDS", 0.25)
#: Open event streams one user may hold in one main API process (429 past it).
UPLOAD_EVENTS_MAX_STREAMS = _env_int("UPLOAD_EVENTS_MAX_STREAMS", 20)
#: Seconds between the comments that keep an idle stream open through proxies.
UPLOAD_EVENTS_KEEPALIVE_SECONDS = _env_float("UPLOAD_EVENTS_KEEPALIVE_SECONDS", 15.0)

# --- the media VM ---------------------------------------------------------------------------

#: One key, or several while rotating; any of them is accepted.
MEDIA_API_KEYS = _env_list("MEDIA_API_KEY")
SMART_MEDIA_BASE_URL = os.environ.get("SMART_MEDIA_BASE_URL", "http://127.0.0.1:8000/api/images").rstrip("/")
MEDIA_BACKEND_URL = os.environ.get("MEDIA_BACKEND_URL", "http://127.0.0.1:3001").rstrip("/")
#: Seconds to wait for the media VM's /serve (connect and each read).
MEDIA_PROXY_TIMEOUT = _env_float("MEDIA_PROXY_TIMEOUT", 10.0)
REPLACE_URLS_INTERVAL_SECONDS = _env_int("REPLACE_URLS_INTERVAL_SECONDS", 120)
#: Seconds the admin dashboard waits for the media VM's /health and /metrics.
MEDIA_VM_STATUS_TIMEOUT = _env_float("MEDIA_VM_STATUS_TIMEOUT", 2.0)
#: Rows ``GET /api/media/pending/all`` lists when the media VM names no ``limit`` (1..500):
#: each user's oldest first, round-robin over users (``selectors.media_vm.uploads_for_media_vm``).
MEDIA_PENDING_LIST_SIZE = _env_int("MEDIA_PENDING_LIST_SIZE", 100)

# --- media VM wake-ups on Redis (issue 18) -----------------------------------------------------

#: With ``REDIS_URL`` set, each row put in the media VM's queue (an upload, a retry, a
#: re-processing) pushes a wake-up onto this Redis list once its transaction commits; idle media
#: VM workers wait on it with ``BRPOP`` (``main_api.media.wakeup``). The full key, unprefixed:
#: the VM, which knows no ``CACHE_KEY_PREFIX``, names the same one (its own ``MEDIA_WAKEUP_LIST``).
MEDIA_WAKEUP_LIST = os.environ.get("MEDIA_WAKEUP_LIST", "").strip() or "media:wakeup"

# --- observability ---------------------------------------------------------------------------

#: ``GET /metrics`` answers a media key, and this token too when it is set.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "").strip()
LOG_FORMAT = os.environ.get("LOG_FORMAT", "").strip().lower() or (
    "text" if DJANGO_ENV in ("dev", "development", "test") else "json"
)
LOG_LEVEL = os.environ.get("MAIN_API_LOG_LEVEL", "INFO")

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
    # one schema name for each of the contract's choice sets, wherever a serializer uses it
    "ENUM_NAME_OVERRIDES": {
        "ImageSizeEnum": list(SIZE_NAMES),
        "ImageFormatEnum": [fmt.value for fmt in ImageFormat],
        "BackgroundEnum": list(BACKGROUNDS),
    },
}

LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)

# --- artworks (/api/artworks) -----------------------------------------------------------------

#: Artworks one user may have; a profile's ``artwork_limit`` (set in the admin) overrides it.
ARTWORK_LIMIT = _env_int("ARTWORK_LIMIT", 100)
#: The categories an artwork may have.
ARTWORK_CATEGORIES = _env_list(
    "ARTWORK_CATEGORIES",
    "painting,drawing,photography,sculpture,printmaking,digital,textile,ceramics,mixed-media,other",
)
#: Most tags per artwork, and most characters per tag (after trimming).
ARTWORK_MAX_TAGS = _env_int("ARTWORK_MAX_TAGS", 20)
ARTWORK_TAG_MAX_CHARS = _env_int("ARTWORK_TAG_MAX_CHARS", 40)

# --- import from a URL (POST /api/uploads/from-url, main_api/media/intake/url_import.py) ---------------

#: Seconds one import may take in all (resolving, connecting, redirects, the whole body); 504 past it.
URL_IMPORT_TIMEOUT_SECONDS = _env_float("URL_IMPORT_TIMEOUT_SECONDS", 10.0)
if not 0 < URL_IMPORT_TIMEOUT_SECONDS <= 120:
    raise SettingsError(f"URL_IMPORT_TIMEOUT_SECONDS must be above 0 and at most 120, got {URL_IMPORT_TIMEOUT_SECONDS}")
#: Exact ``host:port`` entries (comma-separated; IPv6 as ``[::1]:8080``) an import may reach although
#: their address is not public (loopback, private, ...). Empty by default: public addresses only.
URL_IMPORT_ALLOWED_HOSTS = _env_list("URL_IMPORT_ALLOWED_HOSTS")
