"""Every setting of the media VM, declared once, in groups (``shared.config``).

``media_vm.config.Settings`` reads them; ``make settings-docs`` writes
``deploy/env/media_vm.env.example`` and the media VM's part of
``docs/reference/configuration.md`` from them. A setting with an ``attr`` is held as read by
that attribute of ``Settings``; the others are read where they are used (the command line, the
gunicorn config, logging) through :data:`MEDIA_VM`.
"""

from __future__ import annotations

from media_vm import defaults
from shared import outputs
from shared.config import Declarations, Group, Setting, between


def _accel_prefix(value: str) -> str | None:
    """``MEDIA_VM_ACCEL_REDIRECT=/_variants/``: answer /serve with nginx's X-Accel-Redirect."""
    return None if value.startswith("/") and value.endswith("/") else "must start and end with '/'"


MAIN_API = Group("main_api", "the main API", (
    Setting("MAIN_API_URL", str, "http://127.0.0.1:8000",
            "Where the main API answers (the worker polls /api/media/pending/all and calls back).",
            example="https://media.example.org", set_in_example=True),
    Setting("MAIN_API_KEY", list, [],
            "One of the main API's MEDIA_API_KEY values. The worker presents the first of a comma list; the "
            "server accepts any of them on /similar, /metrics and /health's detail (the main API and Prometheus "
            "send it as Authorization: Bearer <key>), so a key is rotated on both sides at once.",
            example="change-me-long-random", set_in_example=True, secret=True),
    Setting("MAIN_API_TIMEOUT", float, 30.0, "Seconds before a call to the main API is abandoned.",
            attr="http_timeout"),
))

STORAGE = Group("storage", "storage and database", (
    Setting("MEDIA_DATABASE_URL", str, "sqlite:///var/media_vm.sqlite3",
            "The media DB: SQLite by default (a relative path is under the checkout); one MySQL/MariaDB "
            "database (mysql://user:pass@host/oaf_media) shared by every VM host.",
            example="mysql://oaf:change-me@10.0.0.1:3306/oaf_media", set_in_example=True),
    Setting("MEDIA_STORAGE_ROOT", str, "var/media",
            "Originals (bulk/) and variants (library/) live here (back it up: README); relative to the checkout "
            "unless absolute. With the s3 backend only s3-work/ is used: this host's working copies (a few "
            "images' worth at a time).",
            example="/var/lib/oaf/media", set_in_example=True),
    Setting("MEDIA_STORAGE_BACKEND", str, "local",
            "Where bulk/ and library/ are kept: local (files under MEDIA_STORAGE_ROOT, one VM host) or s3 (one "
            "bucket of AWS S3, Cloudflare R2 or MinIO, shared by every VM host: README \"Scale-out\").",
            choices=("local", "s3")),
    Setting("MEDIA_VM_PUBLIC_URL", str, "http://127.0.0.1:3001",
            "Base URL of this VM's /serve, written into permanent_url.",
            example="http://10.0.0.2:3080", set_in_example=True),
))

S3 = Group("s3", "the s3 backend (ignored with local)", (
    Setting("MEDIA_S3_BUCKET", str, "",
            "The bucket (made beforehand); required with MEDIA_STORAGE_BACKEND=s3.", example="oaf-media"),
    Setting("MEDIA_S3_PREFIX", str, "",
            "An optional key prefix inside the bucket, e.g. prod/ for several deployments."),
    Setting("MEDIA_S3_ENDPOINT_URL", str, "",
            "Endpoint of an S3-compatible store: R2 https://<account>.r2.cloudflarestorage.com, MinIO "
            "http://10.0.0.5:9000; empty for AWS S3."),
    Setting("MEDIA_S3_REGION", str, "",
            "The bucket's region: required for AWS S3 (URLs signed for the wrong region are refused), \"auto\" "
            "for R2, any for MinIO."),
    Setting("MEDIA_S3_ACCESS_KEY_ID", str, "",
            "Credentials, with MEDIA_S3_SECRET_ACCESS_KEY; empty uses boto3's own chain (AWS_ACCESS_KEY_ID..., "
            "~/.aws, an instance role).", secret=True),
    Setting("MEDIA_S3_SECRET_ACCESS_KEY", str, "", "The secret of MEDIA_S3_ACCESS_KEY_ID.", secret=True),
    Setting("MEDIA_S3_ADDRESSING_STYLE", str, "auto",
            "auto, path (MinIO, most self-hosted stores) or virtual (bucket.endpoint host names).",
            choices=("auto", "path", "virtual")),
    Setting("MEDIA_S3_SERVE", str, "stream",
            "/serve answers from the bucket by streaming the object (stream) or with a 302 to a signed URL the "
            "browser fetches from the store itself (redirect; the bucket's endpoint must be public).",
            choices=("stream", "redirect")),
    Setting("MEDIA_S3_URL_EXPIRES", int, 3600,
            "Seconds a signed URL of MEDIA_S3_SERVE=redirect is valid (60..604800); browsers may keep the "
            "redirect for half of it.", check=between(60, 7 * 24 * 3600)),
))

WORKER = Group("worker", "the worker", (
    Setting("WORKER_ID", str, "",
            "Names the worker in leases, heartbeats and logs (the systemd template sets host-worker-N).",
            default_text="host name-pid"),
    Setting("WORKER_CONCURRENCY", int, 1,
            "Images one worker process works at once (threads); the systemd template passes it on "
            "(python -m media_vm worker --concurrency wins)."),
    Setting("POLL_IDLE_SECONDS", float, 5.0,
            "Seconds between polls of an empty queue (plain polling, or an API too old to long-poll).",
            attr="poll_idle_seconds"),
    Setting("LONG_POLL_SECONDS", float, 10.0,
            "Long polling: how long the main API may hold an idle worker's poll open waiting for an upload (one "
            "request per this many seconds when idle, an upload heard of at once; 0: plain polls every "
            "POLL_IDLE_SECONDS).", attr="long_poll_seconds"),
    Setting("REDIS_URL", str, "",
            "Redis (redis://host:6379/0): idle workers wait on the main API's wake-up list with BRPOP (for up to "
            "POLL_IDLE_SECONDS) and poll at once when an upload is queued; unset, or Redis down: they poll as "
            "above, nothing is lost.", attr="redis_url"),
    Setting("MEDIA_WAKEUP_LIST", str, "media:wakeup",
            "The Redis list idle workers wait on (media_vm.wakeups): the same key as the main API's MEDIA_WAKEUP_LIST.",
            attr="wakeup_list"),
    Setting("MAX_ATTEMPTS", int, 3, "Tries per checklist step before the image is given up.", attr="max_attempts"),
    Setting("RETRY_BASE_SECONDS", float, 2.0, "First retry delay of a failed step, doubling each attempt.",
            attr="retry_base_seconds"),
    Setting("LEASE_SECONDS", int, 300,
            "Seconds a claim holds without renewal: the last resort for a worker that writes no heartbeat; a "
            "worker that does is taken over far sooner (HEARTBEAT_SECONDS).", attr="lease_seconds"),
    Setting("HEARTBEAT_SECONDS", float, 5.0,
            "Seconds between a worker's heartbeats; a worker three of them late is dead and its images are taken "
            "over (15 s), however long their leases still run; on its own host at once once its process is gone.",
            attr="heartbeat_seconds"),
    outputs.SETTING,
    Setting("MAX_IMAGE_PIXELS", int, defaults.MAX_IMAGE_PIXELS,
            "Largest width x height accepted, read from the header before decoding (checked again here: the VM "
            "does not trust the API). A decoded 100 MP RGBA page is 400 MB in memory.", attr="max_image_pixels"),
    Setting("HEAL_INTERVAL_SECONDS", float, 60.0, "How often a worker runs the self-healing cycle.",
            attr="heal_interval_seconds"),
    Setting("HEAL_BATCH", int, 10, "Most images one self-healing cycle touches, per kind.", attr="heal_batch"),
    Setting("STALL_SECONDS", int, 900, "A step running longer than this with an expired lease counts as stalled.",
            attr="stall_seconds"),
))

PROVIDERS = Group("providers", "analysis and its providers", (
    Setting("PROCESS_TIMEOUT_SECONDS", float, 120.0,
            "Longest the analysis or the variants of one image may take, each in a child process killed past it "
            "(0: run them in the worker itself, without a limit).", attr="process_timeout_seconds"),
    Setting("TESSERACT_CMD", str, "tesseract", "The OCR binary (a name on PATH or a path); empty turns OCR off.",
            attr="tesseract_cmd", blank=True),
    Setting("GOOGLE_VISION_API_KEY", str, "", "Google Cloud Vision: on only when the key is set.",
            attr="google_vision_api_key", secret=True),
    Setting("GOOGLE_VISION_ENDPOINT", str, "https://vision.googleapis.com/v1/images:annotate",
            "Google Cloud Vision's images:annotate endpoint.", attr="google_vision_endpoint"),
    Setting("OPENAI_API_KEY", str, "",
            "An OpenAI-compatible API for style, medium and mood: on only when the key is set.",
            attr="openai_api_key", secret=True),
    Setting("OPENAI_BASE_URL", str, "https://api.openai.com/v1", "Base of the OpenAI-compatible API."),
    Setting("OPENAI_VISION_MODEL", str, "gpt-4o-mini", "Model asked for style, medium and mood.",
            attr="openai_vision_model"),
    Setting("VISION_PROVIDER_TIMEOUT", float, 20.0,
            "Seconds before a vision provider's answer is given up (the local analysis goes on, the timeout "
            "recorded).", attr="provider_timeout"),
))

SERVER = Group("server", "the server (python -m media_vm serve)", (
    Setting("MEDIA_VM_ACCEL_REDIRECT", str, "",
            "Behind nginx: answer /serve with \"X-Accel-Redirect: <prefix><file>\" and let nginx send the file "
            "(deploy/nginx/media_vm.conf has the matching internal location /_variants/). Local storage only.",
            example="/_variants/", check=_accel_prefix),
    Setting("HOST", str, "127.0.0.1", "Bind address (the command's --host wins)."),
    Setting("PORT", int, 3001, "Port (the command's --port wins)."),
    Setting("GUNICORN_WORKERS", int, None, "gunicorn (deploy/gunicorn_media_vm.py): processes.",
            example="2", default_text="the number of CPUs, at least 2"),
    Setting("GUNICORN_THREADS", int, 8, "gunicorn: threads per process."),
    Setting("GUNICORN_TIMEOUT", int, 30, "gunicorn: seconds before a silent worker is restarted."),
    Setting("GUNICORN_ACCESSLOG", str, "-", "gunicorn's access log: \"-\" for stderr, empty for none.", blank=True),
))

OBSERVABILITY = Group("observability", "observability", (
    Setting("LOG_FORMAT", str, "", "json or text.", choices=("json", "text"), example="json",
            default_text="json (text when DJANGO_ENV=dev, as make run sets)"),
    Setting("LOG_LEVEL", str, "INFO", "Level of the root logger."),
    Setting("DJANGO_ENV", str, "",
            "dev on a developer machine (make run sets it): text logs by default, and with MAIN_API_KEY unset the "
            "key make run keeps in var/dev-secrets.json. Unset in production."),
    Setting("MEDIA_VM_FAILPOINTS", str, "",
            "Test only: make named steps fail (tests/faults). Never set in production."),
))

REDIS_WORKER = Group("redis_worker", "python -m media_vm redis-worker (the Redis-queue seed's image:jobs)", (
    Setting("REDIS_WORKER_ROOT", str, "",
            "Folder every job's inputPath and outputDir must lie in (symlinks resolved); --root overrides it.",
            example="/srv/images"),
))

#: The media VM's settings.
MEDIA_VM = Declarations(
    service="media VM",
    intro="Settings of the media VM (python -m media_vm ...), read once at start from the environment.\n"
          "Copy to /etc/oaf/media_vm.env (systemd EnvironmentFile) on the media VM host, chmod 600.\n"
          "Lines starting with \"#NAME=\" show a setting at its default; uncomment to change it.\n"
          "Written by make settings-docs from media_vm/declarations.py: edit that, not this file.",
    example_path="deploy/env/media_vm.env.example",
    groups=(MAIN_API, STORAGE, S3, WORKER, PROVIDERS, SERVER, OBSERVABILITY, REDIS_WORKER),
)
