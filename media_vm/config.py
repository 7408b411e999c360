"""Media VM settings: each declared once (:data:`MEDIA_VM`, in groups), read once from the
environment into :class:`Settings`, whose flat attributes (``settings.poll_idle_seconds``,
``settings.redis_url``, ...) the rest of the VM reads.

The declarations are the one place a setting's name, type, default and help are stated:
``deploy/env/media_vm.env.example`` and ``docs/reference/configuration.md`` are written from them
(``make settings-docs``), and ``python -m media_vm settings`` prints what they read.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from media_vm import defaults
from media_vm.declarations import MEDIA_VM
from shared.config import SettingError

__all__ = ["MEDIA_VM", "PROJECT_ROOT", "S3_SERVE_MODES", "STORAGE_BACKENDS", "S3Settings", "SettingError", "Settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: ``make run``'s local secrets (``deploy/dev_run.py`` writes them): its media key is the VM's
#: ``MAIN_API_KEY`` when that is unset and ``DJANGO_ENV=dev``; never read otherwise.
DEV_SECRETS = PROJECT_ROOT / "var" / "dev-secrets.json"
STORAGE_BACKENDS = MEDIA_VM["MEDIA_STORAGE_BACKEND"].choices
S3_SERVE_MODES = MEDIA_VM["MEDIA_S3_SERVE"].choices


def _default(name: str) -> Any:
    return MEDIA_VM[name].default


def is_dev(env: Mapping[str, str]) -> bool:
    """Whether ``env`` marks a developer machine: ``DJANGO_ENV=dev`` (``make run`` sets it for every
    process it starts; a production VM leaves it unset)."""
    return MEDIA_VM.value("DJANGO_ENV", env).lower() in ("dev", "development")


def dev_media_keys(env: Mapping[str, str]) -> list[str]:
    """``make run``'s media key from :data:`DEV_SECRETS`, in dev mode only (:func:`is_dev`); empty
    when not dev, or when the file is missing or unreadable (``make run`` has not written it yet)."""
    if not is_dev(env):
        return []
    try:
        key = json.loads(DEV_SECRETS.read_text()).get("media_key", "")
    except (OSError, ValueError, AttributeError):
        return []
    return [key] if isinstance(key, str) and key else []


def _resolve_sqlite(url: str) -> str:
    """Turn a relative ``sqlite:///var/x.sqlite3`` into an absolute path under the project."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        path = PROJECT_ROOT / url[len(prefix):]
        path.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(path)
    return url


@dataclass(frozen=True)
class S3Settings:
    """``MEDIA_STORAGE_BACKEND=s3``: one bucket of an S3-compatible store (AWS S3, R2, MinIO)."""

    bucket: str
    prefix: str = ""
    endpoint_url: str = ""
    region: str = ""
    access_key_id: str = field(default="", repr=False)
    secret_access_key: str = field(default="", repr=False)
    addressing_style: str = _default("MEDIA_S3_ADDRESSING_STYLE")
    serve: str = _default("MEDIA_S3_SERVE")
    url_expires: int = _default("MEDIA_S3_URL_EXPIRES")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> S3Settings:
        """The ``MEDIA_S3_*`` settings of ``env`` (default ``os.environ``). Raises ``ValueError``
        (a :class:`~shared.config.SettingError` for a value that does not parse) naming the setting."""
        env = os.environ if env is None else env
        value = MEDIA_VM.read(env)
        if not value["MEDIA_S3_BUCKET"]:
            raise ValueError("MEDIA_STORAGE_BACKEND=s3 needs MEDIA_S3_BUCKET")
        prefix = value["MEDIA_S3_PREFIX"].strip("/")
        endpoint = value["MEDIA_S3_ENDPOINT_URL"].rstrip("/")
        if not endpoint and not value["MEDIA_S3_REGION"]:
            # boto3 would sign for us-east-1, and URLs signed for the wrong region are refused
            raise ValueError("AWS S3 (no MEDIA_S3_ENDPOINT_URL) needs MEDIA_S3_REGION, the bucket's region")
        return cls(
            bucket=value["MEDIA_S3_BUCKET"],
            prefix=f"{prefix}/" if prefix else "",
            endpoint_url=endpoint,
            region=value["MEDIA_S3_REGION"],
            access_key_id=value["MEDIA_S3_ACCESS_KEY_ID"],
            secret_access_key=value["MEDIA_S3_SECRET_ACCESS_KEY"],
            addressing_style=value["MEDIA_S3_ADDRESSING_STYLE"],
            serve=value["MEDIA_S3_SERVE"],
            url_expires=value["MEDIA_S3_URL_EXPIRES"],
        )


@dataclass(frozen=True)
class Settings:
    """Everything the worker and the server need to know about their deployment. Each attribute
    is a setting of :data:`MEDIA_VM` (its ``attr``), with that declaration's default; built in
    code (``Settings()``, ``replace(...)``) or from the environment (:meth:`from_env`)."""

    main_api_url: str = _default("MAIN_API_URL")
    main_api_key: str = field(default="", repr=False)
    #: Every key of ``MAIN_API_KEY`` (several while rotating): the keys this VM's server accepts
    #: from the main API on everything but ``/serve`` (see :attr:`accepted_keys`)
    main_api_keys: tuple[str, ...] = field(default=(), repr=False)
    database_url: str = _default("MEDIA_DATABASE_URL")
    storage_root: Path = PROJECT_ROOT / _default("MEDIA_STORAGE_ROOT")
    #: "local": bulk/ and library/ are the files under storage_root; "s3": they are objects in
    #: ``s3.bucket`` and storage_root only holds this host's working copies
    storage_backend: str = _default("MEDIA_STORAGE_BACKEND")
    s3: S3Settings | None = None
    public_url: str = _default("MEDIA_VM_PUBLIC_URL")
    worker_id: str = ""
    poll_idle_seconds: float = _default("POLL_IDLE_SECONDS")
    long_poll_seconds: float = _default("LONG_POLL_SECONDS")
    accel_redirect_prefix: str = ""
    max_attempts: int = _default("MAX_ATTEMPTS")
    lease_seconds: int = _default("LEASE_SECONDS")
    heartbeat_seconds: float = _default("HEARTBEAT_SECONDS")
    retry_base_seconds: float = _default("RETRY_BASE_SECONDS")
    max_image_pixels: int = defaults.MAX_IMAGE_PIXELS
    http_timeout: float = _default("MAIN_API_TIMEOUT")
    heal_batch: int = _default("HEAL_BATCH")
    heal_interval_seconds: float = _default("HEAL_INTERVAL_SECONDS")
    stall_seconds: int = _default("STALL_SECONDS")
    process_timeout_seconds: float = _default("PROCESS_TIMEOUT_SECONDS")
    tesseract_cmd: str = _default("TESSERACT_CMD")
    google_vision_api_key: str = field(default="", repr=False)
    google_vision_endpoint: str = _default("GOOGLE_VISION_ENDPOINT")
    openai_api_key: str = field(default="", repr=False)
    openai_base_url: str = _default("OPENAI_BASE_URL")
    openai_vision_model: str = _default("OPENAI_VISION_MODEL")
    provider_timeout: float = _default("VISION_PROVIDER_TIMEOUT")
    # -- Redis wake-ups (issue 18, ``media_vm.wakeups``) --
    #: ``REDIS_URL``: idle workers wait on :attr:`wakeup_list` with BRPOP; empty: they sleep
    redis_url: str = field(default="", repr=False)
    wakeup_list: str = _default("MEDIA_WAKEUP_LIST")

    @property
    def accepted_keys(self) -> tuple[str, ...]:
        """The media keys the server accepts: every key of ``MAIN_API_KEY``; a ``Settings`` made
        in code with only ``main_api_key`` accepts that one. Empty: nothing but ``/serve`` and
        the anonymous ``/health`` answers."""
        if self.main_api_keys:
            return self.main_api_keys
        return (self.main_api_key,) if self.main_api_key else ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings of ``env`` (default ``os.environ``), each read as :data:`MEDIA_VM`
        declares it. Raises ``ValueError``: a :class:`~shared.config.SettingError` naming the
        variable and the value, or a message naming the settings that do not go together."""
        env = os.environ if env is None else env
        value = MEDIA_VM.read(env)
        # the declared settings the VM keeps as they are read, by their attribute name
        direct = {s.attr: value[s.name] for s in MEDIA_VM if s.attr}
        storage = Path(value["MEDIA_STORAGE_ROOT"])
        backend = value["MEDIA_STORAGE_BACKEND"]
        accel = value["MEDIA_VM_ACCEL_REDIRECT"]
        if backend == "s3" and accel:
            raise ValueError("MEDIA_VM_ACCEL_REDIRECT sends files from the local disk; with MEDIA_STORAGE_BACKEND=s3 "
                             "leave it empty and choose MEDIA_S3_SERVE=stream or redirect")
        keys = value["MAIN_API_KEY"] or dev_media_keys(env)
        return cls(
            **direct,
            main_api_url=value["MAIN_API_URL"].rstrip("/"),
            main_api_key=keys[0] if keys else "",
            main_api_keys=tuple(keys),
            database_url=_resolve_sqlite(value["MEDIA_DATABASE_URL"]),
            storage_root=storage if storage.is_absolute() else PROJECT_ROOT / storage,
            storage_backend=backend,
            s3=S3Settings.from_env(env) if backend == "s3" else None,
            public_url=value["MEDIA_VM_PUBLIC_URL"].rstrip("/"),
            worker_id=value["WORKER_ID"] or f"{socket.gethostname()}-{os.getpid()}",
            accel_redirect_prefix=accel,
            openai_base_url=value["OPENAI_BASE_URL"].rstrip("/"),
        )
