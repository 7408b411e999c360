"""Log lines of the main API: one JSON object per line (production) or plain text (dev).

``LOG_FORMAT=json|text`` chooses; the default is ``json`` unless ``DJANGO_ENV`` is ``dev``
or ``test``. Every record carries the id of the request it was logged in (``request_id``),
set by :class:`main_api.common.middleware.RequestIdMiddleware`; outside a request it is
``-`` in text and absent in JSON.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

#: The request id of the request being handled by this thread (or task).
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
FORMATS = ("json", "text")

#: Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_RECORD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id"?, ...extra, "exc_info"?}`` on one line."""

    def __init__(self, service: str = "main_api") -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "service": self.service,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id and request_id != "-":
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(*, log_format: str, level: str = "INFO") -> dict[str, Any]:
    """The ``LOGGING`` dict for ``log_format`` (``json`` or ``text``)."""
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, got {log_format!r}")
    formatter: dict[str, Any] = (
        {"()": "main_api.common.logging_setup.JsonFormatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "main_api.common.logging_setup.RequestIdFilter"}},
        "formatters": {"main": formatter},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "main", "filters": ["request_id"]},
        },
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            # Django's own default config gives "django" a console handler of its own (with
            # DEBUG on) on top of propagation to ours: every request warning was printed twice.
            # Naming it here replaces those handlers; its records reach the root's console.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "main_api": {"level": level},
            "apscheduler": {"level": "WARNING"},
        },
    }
