"""Media VM settings, read once from the environment."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from media_vm import defaults

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _resolve_sqlite(url: str) -> str:
    """Turn a relative ``sqlite:///var/x.sqlite3`` into an absolute path under the project."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        path = PROJECT_ROOT / url[len(prefix):]
        path.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(path)
    return url


def _accel_prefix(raw: str) -> str:
    """``MEDIA_VM_ACCEL_REDIRECT=/_variants/``: answer /serve with nginx's X-Accel-Redirect."""
    raw = raw.strip()
    if raw and not (raw.startswith("/") and raw.endswith("/")):
        raise ValueError(f"MEDIA_VM_ACCEL_REDIRECT must start and end with '/', got {raw!r}")
    return raw


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    return float(raw) if raw.strip() else default


STORAGE_BACKENDS = ("local", "s3")
S3_SERVE_MODES = ("stream", "redirect")


@dataclass(frozen=True)
class S3Settings:
    """``MEDIA_STORAGE_BACKEND=s3``: one bucket of an S3-compatible store (AWS S3, R2, MinIO)."""

    bucket: str
    prefix: str = ""
    endpoint_url: str = ""
    region: str = ""
    access_key_id: str = field(default="", repr=False)
    secret_access_key: str = field(default="", repr=False)
    addressing_style: str = "auto"
    serve: str = "stream"
    url_expires: int = defaults.S3_URL_EXPIRES_SECONDS

    @classmethod
    def from_env(cls) -> S3Settings:
        bucket = os.environ.get("MEDIA_S3_BUCKET", "").strip()
        if not bucket:
            raise ValueError("MEDIA_STORAGE_BACKEND=s3 needs MEDIA_S3_BUCKET")
        serve = os.environ.get("MEDIA_S3_SERVE", "").strip().lower() or "stream"
        if serve not in S3_SERVE_MODES:
            raise ValueError(f"MEDIA_S3_SERVE must be one of {', '.join(S3_SERVE_MODES)}, got {serve!r}")
        style = os.environ.get("MEDIA_S3_ADDRESSING_STYLE", "").strip().lower() or "auto"
        if style not in ("auto", "path", "virtual"):
            raise ValueError(f"MEDIA_S3_ADDRESSING_STYLE must be auto, path or virtual, got {style!r}")
        expires = _int("MEDIA_S3_URL_EXPIRES", defaults.S3_URL_EXPIRES_SECONDS)
        if not 60 <= expires <= 7 * 24 * 3600:
            raise ValueError(f"MEDIA_S3_URL_EXPIRES must be 60..604800 seconds, got {expires}")
        prefix = os.environ.get("MEDIA_S3_PREFIX", "").strip().strip("/")
        endpoint = os.environ.get("MEDIA_S3_ENDPOINT_URL", "").strip().rstrip("/")
        region = os.environ.get("MEDIA_S3_REGION", "").strip()
        if not endpoint and not region:
            # boto3 would sign for us-east-1, and URLs signed for the wrong region are refused
            raise ValueError("AWS S3 (no MEDIA_S3_ENDPOINT_URL) needs MEDIA_S3_REGION, the bucket's region")
        return cls(
            bucket=bucket,
            prefix=f"{prefix}/" if prefix else "",
            endpoint_url=endpoint,
            region=region,
            access_key_id=os.environ.get("MEDIA_S3_ACCESS_KEY_ID", "").strip(),
            secret_access_key=os.environ.get("MEDIA_S3_SECRET_ACCESS_KEY", "").strip(),
            addressing_style=style,
            serve=serve,
            url_expires=expires,
        )


@dataclass(frozen=True)
class Settings:
    """Everything the worker and the server need to know about their deployment."""

    main_api_url: str = defaults.MAIN_API_URL
    main_api_key: str = field(default="", repr=False)
    #: Every key of ``MAIN_API_KEY`` (several while rotating): the keys this VM's server accepts
    #: from the main API on everything but ``/serve`` (see :attr:`accepted_keys`)
    main_api_keys: tuple[str, ...] = field(default=(), repr=False)
    database_url: str = defaults.MEDIA_DATABASE_URL
    storage_root: Path = PROJECT_ROOT / "var" / "media"
    #: "local": bulk/ and library/ are the files under storage_root; "s3": they are objects in
    #: ``s3.bucket`` and storage_root only holds this host's working copies
    storage_backend: str = "local"
    s3: S3Settings | None = None
    public_url: str = defaults.MEDIA_VM_PUBLIC_URL
    worker_id: str = ""
    poll_idle_seconds: float = defaults.POLL_IDLE_SECONDS
    long_poll_seconds: float = defaults.LONG_POLL_SECONDS
    accel_redirect_prefix: str = ""
    max_attempts: int = defaults.MAX_ATTEMPTS
    lease_seconds: int = defaults.LEASE_SECONDS
    heartbeat_seconds: float = defaults.HEARTBEAT_SECONDS
    retry_base_seconds: float = defaults.RETRY_BASE_SECONDS
    max_image_pixels: int = defaults.MAX_IMAGE_PIXELS
    http_timeout: float = defaults.HTTP_TIMEOUT
    heal_batch: int = defaults.HEAL_BATCH
    heal_interval_seconds: float = defaults.HEAL_INTERVAL_SECONDS
    stall_seconds: int = defaults.STALL_SECONDS
    process_timeout_seconds: float = defaults.PROCESS_TIMEOUT_SECONDS
    tesseract_cmd: str = defaults.TESSERACT_CMD
    google_vision_api_key: str = field(default="", repr=False)
    google_vision_endpoint: str = defaults.GOOGLE_VISION_ENDPOINT
    openai_api_key: str = field(default="", repr=False)
    openai_base_url: str = defaults.OPENAI_BASE_URL
    openai_vision_model: str = defaults.OPENAI_VISION_MODEL
    provider_timeout: float = defaults.PROVIDER_TIMEOUT_SECONDS
    # -- Redis wake-ups (issue 18, ``media_vm.wakeups``) --
    #: ``REDIS_URL``: idle workers wait on :attr:`wakeup_list` with BRPOP; empty: they sleep
    redis_url: str = field(default="", repr=False)
    wakeup_list: str = defaults.MEDIA_WAKEUP_LIST

    @property
    def accepted_keys(self) -> tuple[str, ...]:
        """The media keys the server accepts: every key of ``MAIN_API_KEY``; a ``Settings`` made
        in code with only ``main_api_key`` accepts that one. Empty: nothing but ``/serve`` and
        the anonymous ``/health`` answers."""
        if self.main_api_keys:
            return self.main_api_keys
        return (self.main_api_key,) if self.main_api_key else ()

    @classmethod
    def from_env(cls) -> Settings:
        storage = Path(os.environ.get("MEDIA_STORAGE_ROOT", "var/media"))
        if not storage.is_absolute():
            storage = PROJECT_ROOT / storage
        backend = os.environ.get("MEDIA_STORAGE_BACKEND", "").strip().lower() or "local"
        if backend not in STORAGE_BACKENDS:
            raise ValueError(f"MEDIA_STORAGE_BACKEND must be one of {', '.join(STORAGE_BACKENDS)}, got {backend!r}")
        accel = _accel_prefix(os.environ.get("MEDIA_VM_ACCEL_REDIRECT", ""))
        if backend == "s3" and accel:
            raise ValueError("MEDIA_VM_ACCEL_REDIRECT sends files from the local disk; with MEDIA_STORAGE_BACKEND=s3 "
                             "leave it empty and choose MEDIA_S3_SERVE=stream or redirect")
        return cls(
            main_api_url=os.environ.get("MAIN_API_URL", defaults.MAIN_API_URL).rstrip("/"),
            main_api_key=os.environ.get("MAIN_API_KEY", "").split(",")[0].strip(),
            main_api_keys=tuple(k.strip() for k in os.environ.get("MAIN_API_KEY", "").split(",") if k.strip()),
            database_url=_resolve_sqlite(os.environ.get("MEDIA_DATABASE_URL", defaults.MEDIA_DATABASE_URL)),
            storage_root=storage,
            storage_backend=backend,
            s3=S3Settings.from_env() if backend == "s3" else None,
            public_url=os.environ.get("MEDIA_VM_PUBLIC_URL", defaults.MEDIA_VM_PUBLIC_URL).rstrip("/"),
            worker_id=os.environ.get("WORKER_ID") or f"{socket.gethostname()}-{os.getpid()}",
            poll_idle_seconds=_float("POLL_IDLE_SECONDS", defaults.POLL_IDLE_SECONDS),
            long_poll_seconds=_float("LONG_POLL_SECONDS", defaults.LONG_POLL_SECONDS),
            accel_redirect_prefix=accel,
            max_attempts=_int("MAX_ATTEMPTS", defaults.MAX_ATTEMPTS),
            lease_seconds=_int("LEASE_SECONDS", defaults.LEASE_SECONDS),
            heartbeat_seconds=_float("HEARTBEAT_SECONDS", defaults.HEARTBEAT_SECONDS),
            retry_base_seconds=_float("RETRY_BASE_SECONDS", defaults.RETRY_BASE_SECONDS),
            max_image_pixels=_int("MAX_IMAGE_PIXELS", defaults.MAX_IMAGE_PIXELS),
            http_timeout=_float("MAIN_API_TIMEOUT", defaults.HTTP_TIMEOUT),
            heal_batch=_int("HEAL_BATCH", defaults.HEAL_BATCH),
            heal_interval_seconds=_float("HEAL_INTERVAL_SECONDS", defaults.HEAL_INTERVAL_SECONDS),
            stall_seconds=_int("STALL_SECONDS", defaults.STALL_SECONDS),
            process_timeout_seconds=_float("PROCESS_TIMEOUT_SECONDS", defaults.PROCESS_TIMEOUT_SECONDS),
            tesseract_cmd=os.environ.get("TESSERACT_CMD", defaults.TESSERACT_CMD).strip(),
            google_vision_api_key=os.environ.get("GOOGLE_VISION_API_KEY", "").strip(),
            google_vision_endpoint=os.environ.get("GOOGLE_VISION_ENDPOINT", "").strip()
            or defaults.GOOGLE_VISION_ENDPOINT,
            openai_api_key=os.environ.get("OPENAI_API_KEY", "").strip(),
            openai_base_url=(os.environ.get("OPENAI_BASE_URL", "").strip() or defaults.OPENAI_BASE_URL).rstrip("/"),
            openai_vision_model=os.environ.get("OPENAI_VISION_MODEL", "").strip() or defaults.OPENAI_VISION_MODEL,
            provider_timeout=_float("VISION_PROVIDER_TIMEOUT", defaults.PROVIDER_TIMEOUT_SECONDS),
            # -- Redis wake-ups --
            redis_url=os.environ.get("REDIS_URL", "").strip(),
            wakeup_list=os.environ.get("MEDIA_WAKEUP_LIST", "").strip() or defaults.MEDIA_WAKEUP_LIST,
        )
