"""No credential in a log line the main API formats: a stream ticket, a ``?token=`` and the
signed part of a direct-upload URL are redacted in text and JSON lines and in the server's
access lines (``RedactingFilter``), whatever carries them (the message, an ``extra``)."""

from __future__ import annotations

import logging

from django.test import RequestFactory

from main_api.common.logging_setup import JsonFormatter, RedactingFilter, TextFormatter, redact

TICKET = "2:1xaZTt:IesCc8YTHPPWaQt4S1A065FesZjX20u93WyZtE7bCAo"
SIGNED = "eyJrIjoiYXJ0d29ya3MvMSJ9:1xaZTt:abcDEF_-12"


def record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    rec = logging.makeLogRecord({"name": "django.request", "levelname": "WARNING", "levelno": 30, "msg": msg,
                                 "args": args, **extra})
    rec.request_id = "-"
    return rec


def test_what_is_redacted():
    assert redact(f"GET /api/uploads/events?ticket={TICKET} 200") == "GET /api/uploads/events?ticket=[redacted] 200"
    assert redact("/x?a=1&token=abc&b=2") == "/x?a=1&token=[redacted]&b=2"
    assert redact(f"PUT /api/uploads/direct/{SIGNED}/ 409") == "PUT /api/uploads/direct/[redacted]/ 409"
    assert redact("/api/images/0123?size=small") == "/api/images/0123?size=small"


def test_django_request_warnings_carry_the_request_and_are_redacted():
    request = RequestFactory().put(f"/api/uploads/direct/{SIGNED}/?ticket={TICKET}")
    rec = record("Conflict: %s", request.path, request=request, status_code=409)
    for line in (JsonFormatter().format(rec), TextFormatter().format(rec)):
        assert SIGNED not in line and TICKET not in line and "[redacted]" in line


def test_the_access_line_of_the_server_is_redacted():
    rec = record('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", f"/api/uploads/events?ticket={TICKET}", "1.1", 200)
    assert RedactingFilter().filter(rec)
    assert rec.getMessage() == '127.0.0.1:5 - "GET /api/uploads/events?ticket=[redacted] HTTP/1.1" 200'
