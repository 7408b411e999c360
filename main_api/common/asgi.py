"""The main API's ASGI layer: what stands between uvicorn and Django's ``ASGIHandler``.

Django's ``ASGIHandler`` reads the whole request body into a temp file before any
middleware or view runs, so the upload gate's size limit (``main_api.media.intake.gate``) and
any timeout would only act once everything has arrived. :class:`RequestBodyGuard` is a
pure ASGI middleware in front of it that acts while the body is still on the wire:

- a ``Content-Length`` above the body limit (``main_api.media.intake.multipart.request_body_limit``) is answered
  413 at once, before a byte of the body is read;
- a body without one (``Transfer-Encoding: chunked``) is counted as it streams in, and
  answered 413 the moment it passes the same limit; nothing more is read;
- a body that stalls (no bytes for ``REQUEST_BODY_TIMEOUT_SECONDS``) is answered 408;
- a request with a body but no credentials at all (no ``Authorization`` header, no session
  cookie) to a view that refuses such a request whatever it sends (``PATCH /users/me``,
  ``POST /api/artworks``, ...: ``main_api.common.unauthenticated.anonymous_challenge``) is answered
  401, as the view would, before a byte of its body is read. With credentials, right or wrong,
  the body is read and the view decides, as before.

Each of those answers is the API's JSON error (``{"message", "extra"}``; under ``/api/media/*``
also ``"success": false``) with
``Connection: close``, so the server drops the rest of the body instead of reading it.

:class:`ASGIHandler` is Django's, with two changes: a chunked body, which arrives whole but
without a ``Content-Length``, is given the length it turned out to have, so that Django's
multipart parser reads it (it reads nothing without one, and the upload would be a silent 200);
and a response streamed from a sync iterator (a ``FileResponse``: static files through
WhiteNoise, a temp original; the image proxy's chunks from the media VM) is sent chunk by chunk,
each read in a worker thread. Django's own handler warns ("StreamingHttpResponse must consume
synchronous iterators ...") and reads such an iterator to its end into memory before sending a byte.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.http.cookie import parse_cookie

from main_api.common.client_address import ForwardedHeaders
from main_api.common.exceptions import error_body, error_body_for_path
from main_api.common.middleware import request_id_for

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyRefused(Exception):
    """Raised inside the wrapped ``receive`` to stop Django reading a body; carries the answer."""

    def __init__(self, status: int, message: str, extra: dict[str, Any]) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


def _has_credentials(scope: Scope) -> bool:
    """Whether the request carries an ``Authorization`` header or a session cookie (valid or not)."""
    if _header(scope, b"authorization") is not None:
        return True
    cookies = _header(scope, b"cookie")
    return cookies is not None and settings.SESSION_COOKIE_NAME in parse_cookie(cookies.decode("latin-1"))


def _edge_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """What Django's middleware would have added to an answer this layer gives before Django
    runs: the request id (``RequestIdMiddleware``'s rule) and, for an origin listed in
    ``CORS_ALLOWED_ORIGINS``, the CORS headers django-cors-headers sends, so that a page of that
    origin can read the error (a refused body is answered before Django sees the request)."""
    client_id = _header(scope, b"x-request-id")
    request_id = request_id_for(client_id.decode("latin-1") if client_id is not None else None)
    headers = [(b"x-request-id", request_id.encode())]
    origin = _header(scope, b"origin")
    if origin is not None and origin.decode("latin-1") in getattr(settings, "CORS_ALLOWED_ORIGINS", ()):
        headers += [
            (b"access-control-allow-origin", origin),
            (b"access-control-expose-headers", ", ".join(settings.CORS_EXPOSE_HEADERS).encode()),
            (b"vary", b"origin"),
        ]
    return headers


async def _answer(send: Send, status: int, message: str, extra: dict[str, Any],
                  headers: list[tuple[bytes, bytes]] | None = None, *, scope: Scope) -> None:
    # under /api/media/* with the seed's "success": false, as every error there (error_body_for_path)
    body = json.dumps(error_body_for_path(scope.get("path", ""), error_body(message, extra))).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-content-type-options", b"nosniff"),
            # the server closes the connection after the answer instead of reading the rest of the body
            (b"connection", b"close"),
            *_edge_headers(scope),
            *(headers or ()),
        ],
    })
    await send({"type": "http.response.body", "body": body})


class RequestBodyGuard:
    """ASGI middleware: caps a request body's size and the wait between its bytes (module doc).

    ``max_body_bytes``, ``max_file_bytes`` (named in the 413, as the upload gate names it)
    and ``read_timeout`` are callables read per request, so that settings changed at run time
    (tests) apply; bytes, bytes and seconds. ``body_limit_for(path)``, when given, may name a
    tighter limit for one request by its path (a direct upload's PUT: its declared size), or
    None for the usual ones. ``challenge_for(method, path)``, when given, names the
    ``WWW-Authenticate`` challenge of a view that refuses any request without credentials (None
    for one that may take it): such a request with a body is answered 401 unread.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: Callable[[], int], max_file_bytes: Callable[[], int],
                 read_timeout: Callable[[], float], body_limit_for: Callable[[str], int | None] | None = None,
                 challenge_for: Callable[[str, str], str | None] | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_file_bytes = max_file_bytes
        self.read_timeout = read_timeout
        self.body_limit_for = body_limit_for
        self.challenge_for = challenge_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes()
        per_file = self.max_file_bytes()
        own = self.body_limit_for(scope.get("path", "")) if self.body_limit_for is not None else None
        if own is not None:
            limit = per_file = min(own, limit)
        too_large = (f"request body is larger than the limit of {limit} bytes (at most {per_file} bytes per file)",
                     {"field": None, "max_bytes": per_file, "max_body_bytes": limit})
        declared = _header(scope, b"content-length")
        has_body = _header(scope, b"transfer-encoding") is not None or declared not in (None, b"0")
        if has_body and self.challenge_for is not None and not _has_credentials(scope):
            challenge = self.challenge_for(scope["method"], scope.get("path", ""))
            if challenge is not None:
                log.info("refused a body without credentials on %s %s", scope["method"], scope["path"])
                await _answer(send, 401, "Authentication credentials were not provided.",
                              {"code": "not_authenticated"}, [(b"www-authenticate", challenge.encode("latin-1"))],
                              scope=scope)
                return
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                extra = {"content_length": declared.decode("latin-1")}
                await _answer(send, 400, "Content-Length is not a number", extra, scope=scope)
                return
            if length > limit:
                log.info("refused a body of %d bytes (limit %d) on %s %s", length, limit, scope["method"],
                         scope["path"])
                await _answer(send, 413, *too_large, scope=scope)
                return

        timeout = self.read_timeout()
        received = 0
        body_done = False
        started = False

        async def guarded_receive() -> Message:
            nonlocal received, body_done
            if body_done:
                # after the body only a disconnect can come, whenever it comes: no timeout
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout)
            except TimeoutError:
                stalled = f"no request body bytes for {timeout:g} s"
                raise BodyRefused(408, stalled, {"timeout_seconds": timeout}) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyRefused(413, *too_large)
                body_done = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, tracking_send)
        except BodyRefused as refused:
            if started:  # cannot happen with Django (it reads the body first); never answer twice
                raise
            log.info("answered %d after %d body bytes on %s %s: %s", refused.status, received, scope["method"],
                     scope["path"], refused.message)
            await _answer(send, refused.status, refused.message, refused.extra, scope=scope)


class ASGIHandler(DjangoASGIHandler):
    """Django's ASGI handler, which also reads chunked request bodies (module doc)."""

    def create_request(self, scope: Scope, body_file: Any) -> Any:
        if _header(scope, b"content-length") is None and _header(scope, b"transfer-encoding") is not None:
            size = body_file.seek(0, 2)
            body_file.seek(0)
            scope = {**scope, "headers": [*scope.get("headers", ()), (b"content-length", str(size).encode())]}
        return super().create_request(scope, body_file)

    async def send_response(self, response: Any, send: Send) -> None:
        if response.streaming and not response.is_async:
            response.streaming_content = _read_in_threads(response.streaming_content)
        await super().send_response(response, send)


_DONE = object()


async def _read_in_threads(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    """The chunks of a sync iterator, each ``next()`` in a worker thread (file reads and network
    reads stay off the event loop), one at a time; the iterator is closed when sending ends."""
    iterator = iter(chunks)
    read = sync_to_async(next, thread_sensitive=False)
    try:
        while (chunk := await read(iterator, _DONE)) is not _DONE:
            yield chunk
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            await sync_to_async(close, thread_sensitive=False)()


def application_for(django_app: ASGIApp, *, max_body_bytes: Callable[[], int],
                    body_limit_for: Callable[[str], int | None] | None = None,
                    challenge_for: Callable[[str, str], str | None] | None = None) -> ASGIApp:
    """``django_app`` behind :class:`RequestBodyGuard`: at most ``max_body_bytes()`` bytes of
    body (the project passes ``main_api.media.intake.multipart.request_body_limit``: this app does not
    import the media app), or ``body_limit_for(path)`` where that names a limit (the project
    passes ``main_api.media.intake.direct_uploads.direct_upload_body_limit``), ``MAX_UPLOAD_BYTES`` per
    file and ``REQUEST_BODY_TIMEOUT_SECONDS`` between body bytes, from the settings; a request
    with a body and no credentials that ``challenge_for(method, path)`` says cannot pass is a 401
    unread (the project passes ``main_api.common.unauthenticated.anonymous_challenge``); in front of
    everything, :class:`main_api.common.client_address.ForwardedHeaders` (who the client is)."""
    return ForwardedHeaders(RequestBodyGuard(
        django_app,
        max_body_bytes=max_body_bytes,
        max_file_bytes=lambda: int(settings.MAX_UPLOAD_BYTES),
        read_timeout=lambda: float(settings.REQUEST_BODY_TIMEOUT_SECONDS),
        body_limit_for=body_limit_for,
        challenge_for=challenge_for,
    ))
