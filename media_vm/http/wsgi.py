"""The few WSGI pieces the routes share: a parsed :class:`Request`, a :class:`Response`, and
JSON errors in the main API's shape, ``{"message": str, "extra": dict}``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

StartResponse = Callable[..., Any]
Headers = list[tuple[str, str]]


@dataclass
class Request:
    """One request: the WSGI ``environ`` and the path parameters its route matched."""

    environ: dict[str, Any]
    params: dict[str, str] = field(default_factory=dict)
    #: Whether it carries a valid media key (set by the app before its route sees it).
    has_media_key: bool = False

    @property
    def method(self) -> str:
        """``GET``, ``HEAD``, ... (upper case)."""
        return str(self.environ.get("REQUEST_METHOD", "GET")).upper()

    @property
    def path(self) -> str:
        """The URL path (``PATH_INFO``, already percent-decoded by the server)."""
        return str(self.environ.get("PATH_INFO", ""))

    @cached_property
    def query(self) -> dict[str, str]:
        """Query parameters; of a repeated one, the last value."""
        return {k: v[-1] for k, v in parse_qs(str(self.environ.get("QUERY_STRING", ""))).items()}

    def header(self, name: str) -> str:
        """A request header's value (``""`` when absent); ``name`` as in ``If-None-Match``."""
        key = "HTTP_" + name.upper().replace("-", "_")  # the WSGI environ's name of a header
        return str(self.environ.get(key, ""))


@dataclass
class Response:
    """Status code, headers and the body's chunks (never held whole for a file)."""

    status: int
    headers: Headers = field(default_factory=list)
    body: Iterable[bytes] = ()

    def send(self, start_response: StartResponse) -> Iterable[bytes]:
        """Start the WSGI response; returns the body for the server to send."""
        start_response(f"{self.status} {reason(self.status)}", self.headers)
        return self.body


class HTTPError(Exception):
    """Raised by a route to answer with a JSON error (see :func:`error_response`)."""

    def __init__(self, status: int, message: str, extra: dict[str, Any] | None = None,
                 headers: Headers | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra or {}
        self.headers = headers or []

    def response(self) -> Response:
        """This error as a JSON response."""
        return error_response(self.status, self.message, self.extra, self.headers)


def reason(status: int) -> str:
    """The reason phrase of a status code (``""`` for one HTTP does not name)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def json_response(status: int, body: Any, headers: Headers | None = None) -> Response:
    """``body`` as JSON, never cached."""
    data = json.dumps(body).encode()
    return Response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                             ("Cache-Control", "no-store"), *(headers or [])], [data])


def error_response(status: int, message: str, extra: dict[str, Any] | None = None,
                   headers: Headers | None = None) -> Response:
    """A 4xx/5xx in the main API's error shape: ``{"message": ..., "extra": {...}}``."""
    return json_response(status, {"message": message, "extra": extra or {}}, headers)
