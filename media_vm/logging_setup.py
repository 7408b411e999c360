"""Log lines of the media VM: one JSON object per line (production) or plain text (dev).

``LOG_FORMAT=json|text`` chooses; the default is ``json`` unless ``DJANGO_ENV`` (which
``make run`` sets for every process) is ``dev``. While a worker thread works an image, every
record it logs carries ``job_id`` (the media id) and ``request_id`` (the upload's
``X-Request-ID`` from the main API): see :func:`job_context`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from media_vm.declarations import MEDIA_VM

#: ``(job_id, request_id)`` of the image the current thread is working on.
_job: ContextVar[tuple[str | None, str | None]] = ContextVar("media_vm_job", default=(None, None))

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(job_id)s %(request_id)s] %(message)s"
FORMATS: tuple[str, ...] = MEDIA_VM["LOG_FORMAT"].choices
_RECORD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "job_id", "request_id"}


@contextmanager
def job_context(*, job_id: str | None, request_id: str | None) -> Iterator[None]:
    """Within the block, this thread's log records carry ``job_id`` and ``request_id``."""
    token = _job.set((job_id, request_id))
    try:
        yield
    finally:
        _job.reset(token)


def current_request_id() -> str | None:
    """The request id of the image this thread is working on, if any."""
    return _job.get()[1]


class JobFilter(logging.Filter):
    """Puts ``job_id`` and ``request_id`` on every record (``-`` outside a job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        job_id, request_id = _job.get()
        if not getattr(record, "job_id", None):
            record.job_id = job_id or "-"
        if not getattr(record, "request_id", None):
            record.request_id = request_id or "-"
        return True


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "service", "message", "job_id"?, "request_id"?, ...}``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "service": "media_vm",
            "message": record.getMessage(),
        }
        for key in ("job_id", "request_id"):
            value = getattr(record, key, None)
            if value and value != "-":
                entry[key] = value
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def default_format() -> str:
    """``LOG_FORMAT`` if set, else ``text`` on a developer machine and ``json`` otherwise."""
    chosen = MEDIA_VM.value("LOG_FORMAT", os.environ)  # one of FORMATS, else a SettingError (a ValueError)
    if chosen:
        return str(chosen)
    from media_vm.config import is_dev

    return "text" if is_dev(os.environ) else "json"


def _log_level() -> str:
    return str(MEDIA_VM.value("LOG_LEVEL", os.environ))


def configure(*, log_format: str | None = None, level: str | None = None) -> None:
    """Send the root logger's records to stderr in ``log_format`` (default :func:`default_format`)."""
    log_format = log_format or default_format()
    handler = logging.StreamHandler()
    handler.addFilter(JobFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level or _log_level())
