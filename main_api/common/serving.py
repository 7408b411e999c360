"""The main API's gunicorn worker: uvicorn's event loop, with limits on the header phase.

An asyncio server holds a slow client for the cost of a socket, not a thread, so slow
clients cannot take the request slots away from everyone else. What uvicorn leaves open
is the header phase: it has no timeout for a request whose headers never finish and no
limit on their size (with httptools). :class:`GuardedHttpToolsProtocol` adds both, with
gunicorn's own settings for the sizes so that ``limit_request_*`` keep their meaning:

- a connection whose request line and headers are not complete within
  ``REQUEST_HEADER_TIMEOUT_SECONDS`` (default 10) of its first byte (or of connecting) is
  closed (408 if it sent anything);
- a request line longer than ``limit_request_line``, a header field longer than
  ``limit_request_field_size`` or more than ``limit_request_fields`` fields: 431 and closed.

The body is the ASGI app's business (``main_api.common.asgi.RequestBodyGuard``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker as BaseUvicornWorker

from main_api.common.logging_setup import RedactingFilter
from main_api.declarations import MAIN_API


def header_timeout_seconds() -> float:
    """``REQUEST_HEADER_TIMEOUT_SECONDS`` (seconds, > 0; ``main_api.declarations``) from the
    environment, else its default. Raises ``ValueError`` naming the variable and the value."""
    return float(MAIN_API.value("REQUEST_HEADER_TIMEOUT_SECONDS", os.environ))


#: Called (in the event loop's thread) when the server starts to shut down; see
#: :func:`on_server_shutdown`.
_shutdown_callbacks: list[Callable[[], None]] = []


def on_server_shutdown(callback: Callable[[], None]) -> None:
    """Have ``callback()`` called once when this process's server begins a graceful shutdown
    (SIGTERM, a restart), in its event loop's thread: what keeps a response open on purpose
    (an event stream) ends it then, instead of holding the shutdown for ``graceful_timeout``.
    Registering the same callback twice registers it once."""
    if callback not in _shutdown_callbacks:
        _shutdown_callbacks.append(callback)


def _server_shutting_down() -> None:
    while _shutdown_callbacks:
        callback = _shutdown_callbacks.pop(0)
        try:
            callback()
        except Exception:  # noqa: BLE001 - one callback's failure must not stop the shutdown
            import logging

            logging.getLogger(__name__).exception("shutdown callback %r failed", callback)


class HeadersRefused(Exception):
    """Raised in a parser callback to stop parsing; httptools hands it back wrapped."""


def _status_line(status: int, reason: str, message: str) -> bytes:
    body = json.dumps({"message": message, "extra": {}}).encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    ).encode() + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header timeout and header size limits (module doc).

    The limits come from attributes the worker sets on uvicorn's ``Config``
    (``header_timeout``, ``limit_request_line``, ``limit_request_field_size``,
    ``limit_request_fields``); without them, gunicorn's defaults apply.
    """

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        default = MAIN_API["REQUEST_HEADER_TIMEOUT_SECONDS"].default
        self.header_timeout = float(getattr(config, "header_timeout", default))
        self.limit_line = int(getattr(config, "limit_request_line", 4094)) or 1 << 30
        self.limit_field = int(getattr(config, "limit_request_field_size", 8190)) or 1 << 30
        self.limit_fields = int(getattr(config, "limit_request_fields", 100)) or 1 << 30
        self.header_timer: asyncio.TimerHandle | None = None
        self.refusal: bytes | None = None
        self.received_any = False
        # bytes of the current request's head so far (None once it is complete): httptools buffers
        # a field until its end, so an endless one is cut off here, by the size of all the limits
        self.head_bytes: int | None = 0
        self.limit_head = self.limit_line + self.limit_fields * (self.limit_field + 4)

    def _arm_header_timer(self) -> None:
        if self.header_timer is None:
            self.header_timer = self.loop.call_later(self.header_timeout, self._header_timed_out)

    def _disarm_header_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _header_timed_out(self) -> None:
        self.header_timer = None
        if self.transport.is_closing():
            return
        if self.received_any:
            self.transport.write(_status_line(408, "Request Timeout", "request headers took too long"))
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.received_any = True
        if self.head_bytes is not None:
            self.head_bytes += len(data)
            if self.head_bytes > self.limit_head and not self.transport.is_closing():
                self.transport.write(_status_line(431, "Request Header Fields Too Large", "request head too large"))
                self.transport.close()
                return
        super().data_received(data)

    def timeout_keep_alive_handler(self) -> None:
        self._disarm_header_timer()
        super().timeout_keep_alive_handler()

    def shutdown(self) -> None:
        """The server is shutting down (uvicorn calls this on every open connection): end what
        the app keeps open on purpose first (:func:`on_server_shutdown`)."""
        _server_shutting_down()
        super().shutdown()

    def send_400_response(self, msg: str) -> None:
        if self.refusal is None:
            super().send_400_response(msg)
            return
        self.transport.write(self.refusal)
        self.transport.close()

    def _refuse(self, message: str) -> None:
        self.refusal = _status_line(431, "Request Header Fields Too Large", message)
        raise HeadersRefused(message)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.header_fields = 0
        self._arm_header_timer()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limit_line:
            self._refuse("request line too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        # httptools may hand a field over in pieces only when it spans reads; the sum is what counts
        self.header_fields += 1
        if len(name) + len(value) > self.limit_field:
            self._refuse("header field too long")
        if self.header_fields > self.limit_fields:
            self._refuse("too many header fields")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm_header_timer()
        self.head_bytes = None
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.head_bytes = 0
        # the keep-alive timer (uvicorn's) covers the idle time; ours starts with the next request
        self._disarm_header_timer()


class UvicornWorker(BaseUvicornWorker):
    """gunicorn worker running uvicorn with :class:`GuardedHttpToolsProtocol`; passes gunicorn's
    ``limit_request_*`` settings and ``REQUEST_HEADER_TIMEOUT_SECONDS`` on to it, and redacts
    credentials from its access and error log lines (``logging_setup.RedactingFilter``)."""

    # proxy_headers off: uvicorn would believe X-Forwarded-For from FORWARDED_ALLOW_IPS, which it
    # defaults to 127.0.0.1 when unset; the app applies the project's rule itself
    # (main_api.common.client_address.ForwardedHeaders), with the project's default (nobody)
    CONFIG_KWARGS: dict[str, Any] = {"loop": "auto", "http": GuardedHttpToolsProtocol, "lifespan": "off",
                                     "proxy_headers": False}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config.header_timeout = header_timeout_seconds()  # type: ignore[attr-defined]
        self.config.limit_request_line = self.cfg.limit_request_line  # type: ignore[attr-defined]
        self.config.limit_request_field_size = self.cfg.limit_request_field_size  # type: ignore[attr-defined]
        self.config.limit_request_fields = self.cfg.limit_request_fields  # type: ignore[attr-defined]
        # the access line (uvicorn's, on gunicorn's access handlers) holds the path and query: a
        # stream ticket or a direct-upload URL in it would open the user's stream or upload
        for name in ("uvicorn.access", "uvicorn.error"):
            logger = logging.getLogger(name)
            if not any(isinstance(f, RedactingFilter) for f in logger.filters):
                logger.addFilter(RedactingFilter())
