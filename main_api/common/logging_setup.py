"""Log lines of the main API: one JSON object per line (production) or plain text (dev).

``LOG_FORMAT=json|text`` chooses; the default is ``json`` unless ``DJANGO_ENV`` is ``dev``
or ``test``. Every record carries the id of the request it was logged in (``request_id``),
set by :class:`main_api.common.middleware.RequestIdMiddleware`; outside a request it is
``-`` in text and absent in JSON.

No credential reaches a log line: every line this module formats, and every line of the
server's access and error logs (``uvicorn.access``, ``uvicorn.error``: :class:`RedactingFilter`,
installed by the worker), passes through :func:`redact`, which blanks a stream ticket
(``?ticket=``), a ``?token=`` and the signed part of a direct-upload URL
(``/api/uploads/direct/<signed>``). nginx does the same in its own ``log_format``
(``deploy/nginx/main_api.conf``).
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

#: The request id of the request being handled by this thread (or task).
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
FORMATS = ("json", "text")

#: What stands in for a credential in a log line.
REDACTED = "[redacted]"
#: A credential in a URL: the value of a ``ticket`` or ``token`` query parameter (a stream
#: ticket opens its user's event stream for ten minutes), and the signed token of a direct-upload
#: URL (a PUT of its user's upload for five).
_CREDENTIALS = re.compile(r"(?P<keep>[?&](?:ticket|token)=|/api/uploads/direct/)[^\s&\"'/?#<>,]+")


def redact(text: str) -> str:
    """``text`` (a log line, a path with its query) with every credential of a URL replaced by
    :data:`REDACTED`: ``?ticket=...``, ``?token=...`` and ``/api/uploads/direct/<signed>``."""
    return _CREDENTIALS.sub(lambda m: m.group("keep") + REDACTED, text)


class RedactingFilter(logging.Filter):
    """Redacts a record's message in place (:func:`redact`): for loggers whose lines another
    formatter writes (gunicorn's handlers for ``uvicorn.access`` and ``uvicorn.error``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class TextFormatter(logging.Formatter):
    """:data:`TEXT_FORMAT`, redacted (:func:`redact`)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


#: Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_RECORD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id"?, ...extra, "exc_info"?}`` on one line,
    redacted (:func:`redact`)."""

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
        # the whole line: Django's request warnings carry the request, whose repr has its full path
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


def logging_config(*, log_format: str, level: str = "INFO") -> dict[str, Any]:
    """The ``LOGGING`` dict for ``log_format`` (``json`` or ``text``)."""
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, got {log_format!r}")
    formatter: dict[str, Any] = (
        {"()": "main_api.common.logging_setup.JsonFormatter"} if log_format == "json"
        else {"()": "main_api.common.logging_setup.TextFormatter"}
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
