"""Every setting of the main API, declared once, in groups (``shared.config``).

``main_api.settings`` (the Django settings) reads them; the gunicorn config and the ASGI worker
read theirs through :data:`MAIN_API` too; ``make settings-docs`` writes
``deploy/env/main_api.env.example`` and the main API's part of ``docs/reference/configuration.md``
from them. Imports no Django, so the docs and ``gunicorn`` can read it without settings.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from shared import outputs
from shared.config import Declarations, Group, Setting, between

#: The values of ``DJANGO_ENV`` that mean a developer machine or a test run (insecure defaults allowed).
NOT_PRODUCTION = ("dev", "development", "test")


def _above_zero_at_most_120(value: float) -> str | None:
    return None if 0 < value <= 120 else "must be above 0 and at most 120"


def _addresses_or_networks(value: list[str]) -> str | None:
    for entry in value:
        if entry != "*":
            try:
                ipaddress.ip_network(entry)  # strict, as gunicorn checks the same variable
            except ValueError:
                return f"{entry!r} is not an address or a network (with no host bits set)"
    return None


def _origins(value: list[str]) -> str | None:
    for entry in value:
        parts = urlsplit(entry)
        if parts.scheme not in ("http", "https") or not parts.netloc or entry != f"{parts.scheme}://{parts.netloc}":
            return (f"{entry!r} is not an origin: scheme, host and port only, as a browser sends it in Origin "
                    "(https://app.example.org, http://localhost:3000; no path, no trailing slash, no *)")
    return None


def _above_zero(value: float) -> str | None:
    return None if value > 0 else "must be > 0"


DJANGO = Group("django", "Django", (
    Setting("DJANGO_SECRET_KEY", str, "",
            "Required in production: a long random string (python -c \"import secrets; "
            "print(secrets.token_urlsafe(50))\"). A developer machine or a test run uses an insecure fixed key.",
            example="change-me", set_in_example=True, secret=True, default_text="none: required in production"),
    Setting("DJANGO_ENV", str, "production",
            "\"dev\" on a developer machine (insecure defaults allowed, text logs); unset in production. The test "
            "run's own settings module (tests/settings.py) makes it \"test\".", example=""),
    Setting("DJANGO_DEBUG", bool, False, "Never on in production."),
    Setting("DJANGO_ALLOWED_HOSTS", list, ["127.0.0.1", "localhost", "[::1]"],
            "Host names this API answers to, comma-separated.", example="media.example.org", set_in_example=True),
    Setting("DJANGO_CSRF_TRUSTED_ORIGINS", list, [],
            "Origins trusted for the admin's CSRF check behind TLS, comma-separated.",
            example="https://media.example.org", set_in_example=True),
    Setting("CORS_ALLOWED_ORIGINS", list, [],
            "Origins of frontends on another origin that may call the API from a browser (CORS), comma-separated, "
            "each exactly as the browser sends it: https://app.example.org, http://localhost:3000. They sign in "
            "with the user's token (Authorization: Token ...), never the session cookie (no credentials mode). "
            "Empty: no cross-origin browser access (pages of the API's own origin need none). make run lists "
            "the Next.js and Vite dev servers (localhost and 127.0.0.1, ports 3000 and 5173).",
            example="https://app.example.org", check=_origins),
    Setting("DJANGO_INSECURE_HTTP", bool, None,
            "Production mode is HTTPS behind nginx (X-Forwarded-Proto): Secure cookies, HSTS. 1 allows plain HTTP "
            "on purpose (docker compose on localhost): no Secure cookies, no HSTS; check --deploy warns.",
            example="0", default_text="off in production, on with DJANGO_ENV=dev or DJANGO_DEBUG=1"),
    Setting("FORWARDED_ALLOW_IPS", list, [],
            "Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (addresses or networks, "
            "comma-separated; * for any peer): 127.0.0.1 behind nginx on the same host (then every process on "
            "that host is trusted), nginx's address in a container network. Empty: nobody; the client is the "
            "connection's peer and those headers are dropped. The client is the right-most X-Forwarded-For entry "
            "that is not one of these (what the proxy appended).", example="127.0.0.1", set_in_example=True,
            check=_addresses_or_networks),
    Setting("DJANGO_HSTS_SECONDS", int, 31_536_000, "HSTS max-age in seconds (sent on HTTPS answers)."),
    Setting("DJANGO_HSTS_INCLUDE_SUBDOMAINS", bool, False,
            "HSTS includeSubDomains binds every subdomain to HTTPS: the operator's choice (1 to opt in)."),
    Setting("DJANGO_HSTS_PRELOAD", bool, False,
            "HSTS preload lists are domain-wide and hard to leave: the operator's choice (1 to opt in)."),
    Setting("LOGIN_FAILURE_LIMIT", int, 5,
            "Login lockout (django-axes; the admin's login and /login, its password and token forms): this many "
            "failures lock the username, and separately the address, for LOGIN_COOLOFF_MINUTES after the last "
            "failure. A sign-in clears only its own username's failures. Unlock: python -m main_api "
            "axes_reset_username NAME / axes_reset_ip ADDRESS."),
    Setting("LOGIN_COOLOFF_MINUTES", int, 15,
            "Minutes a lockout lasts after the last failure; 0: until an operator unlocks it (README)."),
    Setting("STATIC_ROOT", str, "var/static",
            "Where collectstatic puts the admin's files (nginx serves /static/ from here); relative to the checkout "
            "unless absolute.", example="/var/lib/oaf/static", set_in_example=True),
))

DATABASE = Group("database", "database", (
    Setting("DATABASE_URL", str, "sqlite:///var/main_api.sqlite3",
            "The main database: SQLite (relative to the checkout) by default; MySQL/MariaDB in production "
            "(mysql://user:pass@host:3306/db, with mysqlclient).",
            example="mysql://oaf:change-me@127.0.0.1:3306/oaf_main", set_in_example=True),
    Setting("DATABASE_CONN_MAX_AGE", int, 0,
            "Seconds a database connection is reused (0: one per request, the default: under ASGI each request "
            "runs in a thread of its own and a kept connection would outlive it). SQLite always uses 0."),
))

MEDIA_VM = Group("media_vm", "the media VM", (
    Setting("MEDIA_API_KEY", list, [],
            "The key(s) the media VM presents. Several, comma-separated, while rotating (README).",
            example="change-me-long-random", set_in_example=True, secret=True),
    Setting("SMART_MEDIA_BASE_URL", str, "http://127.0.0.1:8000/api/images",
            "Base of the smart URLs written into profiles (permanent URLs): the public /api/images of this API.",
            example="https://media.example.org/api/images", set_in_example=True),
    Setting("MEDIA_BACKEND_URL", str, "http://127.0.0.1:3001",
            "Where /api/images finds the media VM's /serve (and the dashboard its /health and /metrics).",
            example="http://10.0.0.2:3080", set_in_example=True),
    Setting("MEDIA_PROXY_TIMEOUT", float, 10.0,
            "Seconds /api/images waits for the media VM (connect and each read); 504 past it."),
    Setting("MEDIA_VM_STATUS_TIMEOUT", float, 2.0,
            "Seconds the admin dashboard waits for the media VM's /health and /metrics before showing it "
            "unreachable."),
    Setting("MEDIA_PENDING_LIST_SIZE", int, 100,
            "Rows one GET /api/media/pending/all lists when the VM names no limit (1..500): each user's oldest "
            "first, round-robin over users (selectors.media_vm.uploads_for_media_vm), so one user's backlog never "
            "hides another's uploads."),
))

UPLOADS = Group("uploads", "uploads", (
    Setting("TEMP_IMAGES_DIR", str, "var/temp_images",
            "Uploads wait here until the media VM has fetched them, with TEMP_STORAGE=local (back it up: README); "
            "relative to the checkout unless absolute.", example="/var/lib/oaf/temp_images", set_in_example=True),
    Setting("TEMP_STORAGE", str, "local",
            "Where temp originals and direct uploads wait: local (TEMP_IMAGES_DIR, one main API host) or s3 (a "
            "private bucket every main API host reads: AWS S3, Cloudflare R2, MinIO; the TEMP_S3_* settings). "
            "With two or more hosts behind a balancer it must be s3: the media VM's fetch may reach any host."),
    Setting("TEMP_S3_BUCKET", str, "",
            "With TEMP_STORAGE=s3: the bucket (private, made beforehand) every main API host shares.",
            example="oaf-temp"),
    Setting("TEMP_S3_ENDPOINT_URL", str, "",
            "Empty for AWS; R2: https://<account>.r2.cloudflarestorage.com; MinIO: http://minio:9000."),
    Setting("TEMP_S3_REGION", str, "", "The bucket's region.", example="us-east-1",
            default_text="AWS_DEFAULT_REGION"),
    Setting("TEMP_S3_ACCESS_KEY_ID", str, "",
            "Both or neither of TEMP_S3_ACCESS_KEY_ID and TEMP_S3_SECRET_ACCESS_KEY; neither: the standard AWS "
            "environment (AWS_ACCESS_KEY_ID, ...), ~/.aws, an instance role.", secret=True),
    Setting("TEMP_S3_SECRET_ACCESS_KEY", str, "", "The secret of TEMP_S3_ACCESS_KEY_ID.", secret=True),
    Setting("TEMP_S3_PREFIX", str, "", "A key prefix inside the bucket, e.g. temp/ (no '..', no '//')."),
    Setting("TEMP_S3_ADDRESSING_STYLE", str, "",
            "auto, path or virtual: path for MinIO and most self-hosted servers; empty: boto3's default (auto)."),
    Setting("DIRECT_UPLOAD_SECONDS", int, 300,
            "Seconds a direct-upload URL (PUT to the main API, or presigned POST to the bucket; "
            "/api/artworks/upload-url) stays valid (10..604800); unused ones are swept an hour after.",
            check=between(10, 7 * 24 * 3600)),
    Setting("MAX_UPLOAD_BYTES", int, 5 * 1024 * 1024,
            "Largest file per upload field, in bytes (413 past it). nginx's client_max_body_size must allow 6 of "
            "them."),
    outputs.SETTING,
    Setting("MAX_IMAGE_PIXELS", int, 100_000_000,
            "Largest width x height of an upload, read from the header before decoding."),
    Setting("MAX_IMAGE_FRAMES", int, 500,
            "Most frames an animated upload may have (the media VM uses the first; more is a decoding cost bomb; "
            "the VM applies the same limit, media_vm/defaults.py)."),
    Setting("MAX_JPEG_SCANS", int, 100,
            "Most scans a JPEG upload may have, counted before decoding: each scan is a full decoding pass, and "
            "a 2,080-scan 'scan bomb' held a request 11 s (the VM applies the same limit, media_vm/defaults.py, "
            "where 100 is justified)."),
    Setting("UPLOAD_THROTTLE_RATE", str, "60/min",
            "Files per user and period, DRF rate syntax (PATCH /users/me: six images cost six, a PATCH without "
            "files one); counted in the shared cache, so it holds across processes and hosts."),
    Setting("REPLACE_URLS_INTERVAL_SECONDS", int, 120,
            "Seconds between two runs of the URL replacement (python -m main_api run_scheduler)."),
    Setting("FAILED_RETENTION_DAYS", int, 7,
            "Days a failed upload's temp original is kept for a retry (POST /api/uploads/{id}/retry), then deleted "
            "by sweep_failed (run_scheduler runs it too)."),
    Setting("URL_IMPORT_TIMEOUT_SECONDS", float, 10.0,
            "POST /api/uploads/from-url: seconds one import may take in all (resolving, connecting, every "
            "redirect, the whole body; 504 past it), at most 120.", check=_above_zero_at_most_120),
    Setting("URL_IMPORT_MAX_IN_FLIGHT", int, 16,
            "POST /api/uploads/from-url: imports one main API process fetches at once (429 with Retry-After past "
            "it). Each holds two threads, a socket and up to MAX_UPLOAD_BYTES of temp file until it ends, at the "
            "latest at URL_IMPORT_TIMEOUT_SECONDS.", check=between(1, 1000)),
    Setting("URL_IMPORT_ALLOWED_HOSTS", list, [],
            "Exact host:port entries (comma-separated, IPv6 as [::1]:8080) an import may reach although their "
            "address is not public (loopback, private, link-local, ...). Empty: public addresses only."),
))

CACHE = Group("cache", "cache (the upload budget) and Redis", (
    Setting("REDIS_URL", str, "",
            "Redis for the cache (redis://host:6379/0) and the announcements of upload events; unset: a table of "
            "the main database (django_cache, made by migrate) and events by polling. An unreachable Redis lets "
            "uploads through unthrottled, with a logged warning."),
    Setting("CACHE_KEY_PREFIX", str, "oaf",
            "Prefix of every cache key (several deployments on one Redis each take their own)."),
    Setting("MEDIA_WAKEUP_LIST", str, "media:wakeup",
            "With REDIS_URL: the Redis list each upload, retry and re-processing pushes a wake-up onto for the "
            "media VM's idle workers (BRPOP), once its transaction commits; the full key, unprefixed, the same as "
            "the VM's MEDIA_WAKEUP_LIST."),
))

SLOW_CLIENTS = Group("slow_clients", "slow clients", (
    Setting("REQUEST_BODY_TIMEOUT_SECONDS", float, 30.0,
            "Seconds a request body may stall (no bytes arriving) before the API answers 408 and closes."),
    Setting("REQUEST_HEADER_TIMEOUT_SECONDS", float, 10.0,
            "Seconds a client has for its request line and headers; then 408 and closed.", check=_above_zero),
))

OBSERVABILITY = Group("observability", "observability", (
    Setting("LOG_FORMAT", str, "", "json or text.", choices=("json", "text"), example="json",
            default_text="json (text with DJANGO_ENV=dev)"),
    Setting("MAIN_API_LOG_LEVEL", str, "INFO", "Level of the main_api loggers."),
    Setting("METRICS_TOKEN", str, "",
            "A token Prometheus presents at /metrics (Authorization: Bearer ...); the media key works too.",
            secret=True),
    Setting("PROMETHEUS_MULTIPROC_DIR", str, "",
            "Folder where gunicorn's workers share their counters, summed at /metrics; emptied when the server "
            "starts. Set it in the environment (prometheus_client reads it on import). The systemd unit sets "
            "/run/oaf-main-api, compose /tmp/prometheus, make run var/prometheus."),
))

GUNICORN = Group("gunicorn", "gunicorn (deploy/gunicorn_main_api.py)", (
    Setting("GUNICORN_WORKERS", int, None,
            "Worker processes, each an event loop (uvicorn) that holds any number of connections; sync views run "
            "in threads of their own.", example="2", default_text="the number of CPUs, at least 2"),
    Setting("GUNICORN_TIMEOUT", int, 60, "Seconds before a worker whose event loop stopped answering is restarted."),
    Setting("GUNICORN_ACCESSLOG", str, "-", "Access log destination: \"-\" for stderr, empty for none.", blank=True),
))

UPLOAD_EVENTS = Group("upload_events", "live upload events (GET /api/uploads/events)", (
    Setting("UPLOAD_EVENT_RETENTION_HOURS", int, 48,
            "Hours upload events are kept for Last-Event-ID replay (at least 24: less counts as 24); then "
            "run_scheduler sweeps them."),
    Setting("UPLOAD_EVENT_TICKET_SECONDS", int, 600,
            "Seconds a stream ticket (POST /api/uploads/events/ticket) is valid, reconnects included."),
    Setting("UPLOAD_EVENTS_POLL_SECONDS", float, 0.25,
            "Seconds between two looks of each process's event poller for new events: without Redis the delivery "
            "delay; with REDIS_URL only a safety net (an announcement wakes it at once)."),
    Setting("UPLOAD_EVENTS_MAX_STREAMS", int, 20,
            "Open event streams one user may hold, in all processes and hosts together (429 past it): counted in "
            "the shared cache (the database's django_cache, or Redis with REDIS_URL)."),
    Setting("UPLOAD_EVENTS_STREAM_LEASE_SECONDS", float, 60.0,
            "Seconds an open stream's hold on one of its user's UPLOAD_EVENTS_MAX_STREAMS slots lasts unless renewed "
            "(each process renews its streams' every third of it, and gives a slot back when its stream ends): how "
            "long the slots of a process that died stay taken.", check=between(3, 86400)),
    Setting("UPLOAD_EVENTS_KEEPALIVE_SECONDS", float, 15.0,
            "Seconds between the comments that keep an idle stream open through proxies."),
))

ARTWORKS = Group("artworks", "artworks (/api/artworks)", (
    Setting("ARTWORK_LIMIT", int, 100,
            "Artworks one user may have; ops override it per user (the profile's artwork_limit, in the admin)."),
    Setting("ARTWORK_CATEGORIES", list,
            ["painting", "drawing", "photography", "sculpture", "printmaking", "digital", "textile", "ceramics",
             "mixed-media", "other"],
            "The categories an artwork may have (comma-separated)."),
    Setting("ARTWORK_MAX_TAGS", int, 20, "Most tags per artwork."),
    Setting("ARTWORK_TAG_MAX_CHARS", int, 40, "Most characters per tag (after trimming)."),
))

#: The main API's settings.
MAIN_API = Declarations(
    service="main API",
    intro="Settings of the main API (python -m main_api ...), read once at start from the environment.\n"
          "Copy to /etc/oaf/main_api.env (systemd EnvironmentFile) or .env (docker compose), chmod 600.\n"
          "Lines starting with \"#NAME=\" show a setting at its default; uncomment to change it.\n"
          "Written by make settings-docs from main_api/declarations.py: edit that, not this file.",
    example_path="deploy/env/main_api.env.example",
    groups=(DJANGO, DATABASE, MEDIA_VM, UPLOADS, CACHE, SLOW_CLIENTS, OBSERVABILITY, GUNICORN, UPLOAD_EVENTS,
            ARTWORKS),
)
