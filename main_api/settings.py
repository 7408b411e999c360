"""Settings of the main API, read once from the environment.

Production is the default: DEBUG is off and ``DJANGO_SECRET_KEY`` must be set. A
developer machine says so explicitly with ``DJANGO_ENV=dev`` (or ``DJANGO_DEBUG=1``);
a pytest run is recognised on its own so that ``pytest`` works with no environment.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from main_api.common.logging_setup import logging_config
from shared.sizes import BACKGROUNDS, SIZES, ImageFormat

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

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or DJANGO_ENV in ("dev", "development", "test"):
        SECRET_KEY = "insecure-dev-only-key-never-use-in-production"  # dev/test only
    else:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Production mode (DJANGO_DEBUG off) needs a secret key; "
            "set DJANGO_SECRET_KEY, or DJANGO_ENV=dev on a developer machine."
        )

ALLOWED_HOSTS = _env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
if DJANGO_ENV == "test":
    ALLOWED_HOSTS.append("testserver")

INSTALLED_APPS = [
    "main_api.common.admin_site.AdminConfig",  # django.contrib.admin with operations pages (the dashboard)
    "django.contrib.auth",
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
]

MIDDLEWARE = [
    # first: everything after them logs with the request id and is timed
    "main_api.common.middleware.RequestIdMiddleware",
    "main_api.common.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "main_api.urls"
WSGI_APPLICATION = "main_api.wsgi.application"
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
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=_env_int("DATABASE_CONN_MAX_AGE", 60))
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
if DJANGO_ENV == "test":
    # Hashing dominates user creation; tests create many users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static files (the admin's) -----------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = _project_path(os.environ.get("STATIC_ROOT", "var/static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing one on every start
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or DJANGO_ENV == "test"
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- security ------------------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = _env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# --- uploads -------------------------------------------------------------------------------

MAX_UPLOAD_BYTES = _env_int("MAX_UPLOAD_BYTES", 5 * 1024 * 1024)
#: Width x height above which an upload is refused before it is decoded.
MAX_IMAGE_PIXELS = _env_int("MAX_IMAGE_PIXELS", 100_000_000)
#: Most frames an animated upload may have (the media VM uses the first; more is a decoding cost bomb).
MAX_IMAGE_FRAMES = _env_int("MAX_IMAGE_FRAMES", 500)
TEMP_IMAGES_DIR = _project_path(os.environ.get("TEMP_IMAGES_DIR", "var/temp_images"))
# The size limit is enforced while the body is read (FILE_UPLOAD_MAX_MEMORY_SIZE does not
# cap anything, it only picks memory or disk), so it comes first.
FILE_UPLOAD_HANDLERS = [
    "main_api.media.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
UPLOAD_THROTTLE_RATE = os.environ.get("UPLOAD_THROTTLE_RATE", "60/min")
#: Days a failed upload's temp original is kept, so that its owner can retry it; then swept
#: (``python -m main_api sweep_failed``, also run by ``run_scheduler``).
FAILED_RETENTION_DAYS = _env_int("FAILED_RETENTION_DAYS", 7)

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
#: each user's oldest first, round-robin over users (``selectors.pending_images_for_media``).
MEDIA_PENDING_LIST_SIZE = _env_int("MEDIA_PENDING_LIST_SIZE", 100)

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
    "DEFAULT_AUTHENTICATION_CLASSES": ["main_api.common.authentication.UserTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": _renderers,
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
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
        "ImageSizeEnum": [size.name for size in SIZES],
        "ImageFormatEnum": [fmt.value for fmt in ImageFormat],
        "BackgroundEnum": list(BACKGROUNDS),
    },
}

LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
