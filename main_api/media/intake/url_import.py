"""Fetching an image from a URL for ``POST /api/uploads/from-url``, safely (server-side request
forgery: the URL is the user's, the connection is ours).

:func:`url_fetch` downloads the body of one URL into an anonymous temp file and hands back its
bytes, size and SHA-256; the caller then treats it exactly as an uploaded file (the upload gate,
``main_api.media.intake.gate``, judges it; nothing here decides what an image is).

**The rules** (each refusal an :class:`~main_api.common.exceptions.ApplicationError` whose
``extra["reason"]`` names it, see :data:`REASONS`):

- ``http`` and ``https`` only; no user name or password in the URL (refused, never forwarded);
  no cookies kept or sent, no ``Authorization``, no proxy or ``.netrc`` from the environment,
  a fixed ``User-Agent`` (:data:`USER_AGENT`).
- The address a name resolves to is checked **on every connection, redirects included**, and the
  connection goes to that very address (no second DNS lookup between check and connect: a
  rebinding name cannot slip in): no loopback, private, link-local, multicast, reserved,
  unspecified, shared (CGNAT, 100.64/10), documentation or benchmark ranges, IPv4-mapped IPv6
  of those, IPv6 ULA, link-local and site-local, 6to4 and NAT64 (``url_connections.address_refused``), unless
  ``URL_IMPORT_ALLOWED_HOSTS`` names the URL's exact ``host:port``. ``Host`` and, for https, the
  TLS SNI and certificate check stay on the name.
- At most :data:`MAX_REDIRECTS` redirects, each a new URL checked from the start.
- Only a 200 is taken. A declared ``Content-Length`` over ``MAX_UPLOAD_BYTES`` is refused before
  the body is read; the body is counted while it streams and refused the moment it passes the
  limit (413), chunked or not.
- ``URL_IMPORT_TIMEOUT_SECONDS`` bounds the whole fetch (resolving, connecting, every redirect,
  every byte): a server that never answers or trickles its bytes is given up on at the deadline
  (504). The fetch runs in a thread of its own that the caller waits for until the deadline (a
  wall clock, not a per-read timeout, which a byte every second would keep resetting). At the
  deadline every socket the fetch opened is shut down, whatever the protocol and whatever the
  fetch is doing (TLS handshake, status line, headers, an HTTP/1.0 body the connection ends): its
  blocked read returns at once and the thread ends, its sockets closed. Each socket is known from
  the moment it connects (``url_connections.CheckedAdapter``'s connections report a duplicate of it), not
  from the response object, which an HTTP/1.0 or ``Connection: close`` answer detaches from its
  connection. Only a name lookup cannot be cut short; it is bounded by the resolver's own timeout.
- At most ``URL_IMPORT_MAX_IN_FLIGHT`` fetches run at once in a process (counted until their
  thread ends, not until their caller gives up); one more is refused at once (429, reason
  ``busy``, ``Retry-After``: the seconds until the earliest running fetch's deadline).

**Library: requests-hardened** (Saleor's, BSD; on PyPI, maintained). Its ``IPFilterAdapter``
resolves the host once per connection (so once per redirect hop too), refuses non-public addresses
and connects to the checked address, keeping ``Host``, SNI and the certificate check on the name:
the per-connection check without a rebinding gap that we would otherwise write ourselves on
urllib3. It is kept, and around it: ``url_connections.CheckedAdapter`` adds the exact ``host:port``
allow-list (the library only has "all loopback or none") and our stricter address rule on top of
the library's (it lets IPv6 site-local and reserved ranges through); redirects are followed here,
not by requests, so that each hop's URL is checked for scheme and user info and counted, and so
that no cookie of one hop reaches the next; the total deadline and the size limit are ours (a
library's timeouts are per socket operation). Other candidates were left: ``safehttpx`` is
async-only, follows no redirects and falls back to a public DNS-over-HTTPS resolver;
``advocate`` has had no release since 2020; ``drawbridge`` is an alpha (httpx, which the project
does not otherwise use).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import logging
import math
import re
import socket
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import IO, Any
from urllib.parse import unquote, urljoin, urlsplit

import requests
import urllib3.exceptions
from django.conf import settings
from requests_hardened.ip_filter import InvalidIPAddress

from main_api.common.exceptions import ApplicationError, UploadTooLarge
from main_api.media import errors
from main_api.media.intake.url_connections import (
    DEFAULT_PORTS,
    AddressRefused,
    CheckedAdapter,
    allowed_hosts_parse,
    host_port,
)

log = logging.getLogger(__name__)

#: Redirects followed at most; the next one is refused (400, reason ``too_many_redirects``).
MAX_REDIRECTS = 3
#: The one ``User-Agent`` every fetch sends (nothing of the user's request is passed on).
USER_AGENT = "oaf-media-url-import/1"
#: Longest URL taken, in characters.
MAX_URL_CHARS = 2048
#: Bytes read from the socket at a time.
CHUNK_BYTES = 64 * 1024

#: ``extra["reason"]`` of each refusal, with its HTTP status.
REASONS: dict[str, int] = {
    "bad_url": 400,  # not an absolute http(s) URL with a host, or too long
    "scheme": 400,  # not http or https (ftp:, file:, data:, ...)
    "credentials": 400,  # user info (user:password@) in the URL
    "address": 400,  # the host resolves to an address that is not public, and is not allow-listed: "not allowed"
    "too_many_redirects": 400,  # more than MAX_REDIRECTS
    "too_large": 413,  # declared or streamed over MAX_UPLOAD_BYTES
    "busy": 429,  # URL_IMPORT_MAX_IN_FLIGHT fetches already run in this process
    "status": 502,  # the server answered something else than 200 (or a redirect)
    "unreachable": 502,  # the name does not resolve, the connection or TLS failed, the body broke off
    "timeout": 504,  # URL_IMPORT_TIMEOUT_SECONDS passed
}


class UrlImportError(ApplicationError):
    """A URL that could not be imported; ``status_code`` and ``extra["reason"]`` from :data:`REASONS`.

    Its 502 and 504 say what the remote host the user named did, not that this server failed:
    they are logged as warnings (``log_level``), as 4xx answers are.
    """

    log_level = "warning"

    def __init__(self, reason: str, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message, {"reason": reason, **(extra or {})}, status_code=REASONS[reason])


@dataclass
class FetchedFile:
    """The body of a fetched URL: ``file`` (an anonymous temp file at position 0: close it),
    ``size`` in bytes, ``sha256`` (hex), ``name`` (the last segment of the final URL's path,
    decoded; the host when the path has none) and ``url`` (the final URL, after redirects)."""

    file: IO[bytes]
    size: int
    sha256: str
    name: str
    url: str


def url_check(url: str) -> None:
    """Refuse a URL that may not be fetched whatever it resolves to (:class:`UrlImportError`,
    400): too long, not absolute http(s) with a host, a bad port, or user info in it."""
    if len(url) > MAX_URL_CHARS:
        raise UrlImportError("bad_url", errors.URL_TOO_LONG.message.format(max_chars=MAX_URL_CHARS))
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as e:
        raise UrlImportError("bad_url", errors.URL_NOT_VALID.message.format(cause=e), {"url": url}) from e
    if parts.scheme.lower() not in DEFAULT_PORTS:
        raise UrlImportError("scheme", errors.URL_SCHEME.message,
                             {"url": url, "scheme": parts.scheme.lower()})
    if "@" in parts.netloc:
        raise UrlImportError("credentials", errors.URL_CREDENTIALS.message, {"url": url})
    if not parts.hostname:
        raise UrlImportError("bad_url", errors.URL_NO_HOST.message, {"url": url})


def url_fetch(*, url: str, max_bytes: int | None = None, timeout: float | None = None,
              allowed_hosts: Iterable[str] | None = None) -> FetchedFile:
    """Fetch ``url`` under the module doc's rules; the body as a :class:`FetchedFile`.

    ``max_bytes``, ``timeout`` (seconds, the whole fetch) and ``allowed_hosts`` (``host:port``
    entries) default to ``MAX_UPLOAD_BYTES``, ``URL_IMPORT_TIMEOUT_SECONDS`` and
    ``URL_IMPORT_ALLOWED_HOSTS``. Raises :class:`UrlImportError` (400, 502, 504: ``extra`` has
    ``reason`` and what was refused) or ``UploadTooLarge`` (413, ``extra["reason"]`` too_large).
    """
    url_check(url)
    fetch = _Fetch(
        max_bytes=int(settings.MAX_UPLOAD_BYTES if max_bytes is None else max_bytes),
        allowed=allowed_hosts_parse(settings.URL_IMPORT_ALLOWED_HOSTS if allowed_hosts is None else allowed_hosts),
        deadline=time.monotonic() + float(settings.URL_IMPORT_TIMEOUT_SECONDS if timeout is None else timeout),
    )
    return fetch.run(url)


class _InFlight:
    """The fetches of this process whose thread is running, each by its deadline
    (``time.monotonic()`` seconds), bounded by ``URL_IMPORT_MAX_IN_FLIGHT``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deadlines: dict[object, float] = {}

    def enter(self, fetch: object, deadline: float) -> None:
        """Count ``fetch`` in, or raise :class:`UrlImportError` ``busy`` (429, with ``Retry-After``:
        whole seconds until the earliest running fetch's deadline, at least 1)."""
        limit = int(settings.URL_IMPORT_MAX_IN_FLIGHT)
        with self._lock:
            if len(self._deadlines) >= limit:
                wait = max(1, math.ceil(min(self._deadlines.values()) - time.monotonic()))
                error = UrlImportError("busy", errors.URL_BUSY.message.format(limit=limit, wait=wait),
                                       {"max_in_flight": limit, "retry_after": wait})
                error.headers["Retry-After"] = str(wait)
                raise error
            self._deadlines[fetch] = deadline

    def leave(self, fetch: object) -> None:
        """Count ``fetch`` out (its thread is ending)."""
        with self._lock:
            self._deadlines.pop(fetch, None)


_in_flight = _InFlight()


class _Fetch:
    """One fetch: :meth:`run` starts :meth:`_work` in a thread and waits for it until the deadline,
    then shuts down every socket the work opened (``sockets``: a duplicate of each, so that a
    socket TLS has wrapped, or one http.client has handed over to an HTTP/1.0 response, is
    reached all the same; the thread closes them when it ends)."""

    def __init__(self, *, max_bytes: int, allowed: frozenset[tuple[str, int]], deadline: float) -> None:
        self.max_bytes = max_bytes
        self.allowed = allowed
        self.deadline = deadline
        self.result: concurrent.futures.Future[FetchedFile] = concurrent.futures.Future()
        self.lock = threading.Lock()
        self.abandoned = False
        self.sockets: list[socket.socket] = []

    def run(self, url: str) -> FetchedFile:
        started = time.monotonic()
        _in_flight.enter(self, self.deadline)
        try:
            threading.Thread(target=self._work, args=(url,), name="url-import", daemon=True).start()
        except BaseException:
            _in_flight.leave(self)
            raise
        try:
            fetched = self.result.result(timeout=max(0.0, self.deadline - time.monotonic()))
        except concurrent.futures.TimeoutError:
            self._abandon()
            raise self._timeout(started) from None
        log.info("url import: %s bytes from %s", fetched.size, urlsplit(fetched.url).hostname)
        return fetched

    def _timeout(self, started: float) -> UrlImportError:
        seconds = round(self.deadline - started, 3)
        return UrlImportError("timeout", errors.URL_TIMEOUT.message.format(seconds=f"{seconds:g}"),
                              {"timeout_seconds": seconds})

    def _abandon(self) -> None:
        """The caller gave up: shut down the work's sockets (a blocked read or handshake returns at
        once, a later connection is shut down as it connects) and drop whatever it has or will
        have fetched."""
        with self.lock:
            self.abandoned = True
            if self.result.done() and self.result.exception() is None:
                self.result.result().file.close()
            for sock in self.sockets:
                _shut_down(sock)

    def _on_socket(self, sock: socket.socket) -> None:
        """A connection of the work's session connected ``sock`` (in the work's thread)."""
        with self.lock:
            self.sockets.append(sock.dup())
            if self.abandoned:
                _shut_down(sock)

    def _work(self, url: str) -> None:
        try:
            fetched = self._fetch(url)
        except BaseException as e:  # noqa: BLE001 - handed to the waiting caller, whatever it is
            with self.lock:
                if not self.abandoned:  # else nobody waits: its traceback would only keep sockets alive
                    self.result.set_exception(e)
            return
        else:
            with self.lock:
                if self.abandoned:
                    fetched.file.close()
                self.result.set_result(fetched)
        finally:
            with self.lock:
                for sock in self.sockets:
                    sock.close()
                self.sockets.clear()
            _in_flight.leave(self)

    def _remaining(self, started: float) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self._timeout(started)
        return left

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # no proxy, no .netrc credentials, no CA bundle from the environment
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # no cookie kept, none sent
        session.headers.clear()
        session.headers.update({"User-Agent": USER_AGENT, "Accept": "image/*", "Accept-Encoding": "identity"})
        session.mount("http://", CheckedAdapter(https=False, allowed=self.allowed, on_socket=self._on_socket))
        session.mount("https://", CheckedAdapter(https=True, allowed=self.allowed, on_socket=self._on_socket))
        return session

    def _fetch(self, url: str) -> FetchedFile:
        started = time.monotonic()
        with self._session() as session:
            for hop in range(MAX_REDIRECTS + 1):
                url_check(url)
                response = self._get(session, url, started)
                if not response.is_redirect:
                    with response:
                        return self._body(response, url, started)
                location = urljoin(url, response.headers["Location"])
                response.close()
                if hop == MAX_REDIRECTS:
                    raise UrlImportError("too_many_redirects",
                                         errors.URL_REDIRECTS.message.format(max_redirects=MAX_REDIRECTS),
                                         {"max_redirects": MAX_REDIRECTS, "url": location})
                url = location
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, session: requests.Session, url: str, started: float) -> requests.Response:
        host, port = host_port(url)
        left = self._remaining(started)
        try:
            response = session.get(url, stream=True, allow_redirects=False, timeout=(left, left))
        except AddressRefused as e:
            raise _not_allowed(url, host, e.address) from e
        except InvalidIPAddress as e:  # the library's own rule, ahead of ours
            raise _not_allowed(url, host, str(e)) from e
        except requests.Timeout as e:
            raise self._timeout(started) from e
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                requests.exceptions.MissingSchema) as e:
            raise UrlImportError("bad_url", errors.URL_NOT_VALID.message.format(cause=_cause(e)), {"url": url}) from e
        except requests.RequestException as e:
            message = errors.URL_UNREACHABLE.message.format(host=host, port=port, cause=_cause(e))
            raise UrlImportError("unreachable", message, {"url": url, "host": host}) from e
        return response

    def _body(self, response: requests.Response, url: str, started: float) -> FetchedFile:
        host = urlsplit(url).hostname or ""
        if response.status_code != 200:
            raise UrlImportError("status", errors.URL_STATUS.message.format(host=host, status=response.status_code),
                                 {"url": url, "status": response.status_code})
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise self._too_large(url, declared=int(declared))
        file = tempfile.TemporaryFile()
        digest, size = hashlib.sha256(), 0
        try:
            for chunk in response.raw.stream(CHUNK_BYTES, decode_content=False):
                size += len(chunk)
                if size > self.max_bytes:
                    raise self._too_large(url)
                digest.update(chunk)
                file.write(chunk)
                self._remaining(started)
        except urllib3.exceptions.ReadTimeoutError as e:
            file.close()
            raise self._timeout(started) from e
        except (urllib3.exceptions.HTTPError, OSError) as e:
            file.close()
            if time.monotonic() >= self.deadline:  # shut down by _abandon
                raise self._timeout(started) from e
            raise UrlImportError("unreachable", errors.URL_BROKE_OFF.message.format(host=host, cause=_cause(e)),
                                 {"url": url}) from e
        except BaseException:
            file.close()
            raise
        file.seek(0)
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or host
        return FetchedFile(file=file, size=size, sha256=digest.hexdigest(), name=name, url=url)

    def _too_large(self, url: str, declared: int | None = None) -> UploadTooLarge:
        said = f"declares {declared} bytes" if declared is not None else "sent more"
        return UploadTooLarge(f"the image at the URL {said}, over the limit of {self.max_bytes} bytes",
                              {"reason": "too_large", "url": url, "max_bytes": self.max_bytes,
                               **({"declared_bytes": declared} if declared is not None else {})})


def _not_allowed(url: str, host: str, address: str) -> UrlImportError:
    """The 400 ``address`` refusal of ``url``, whose ``host`` resolved to the non-public ``address``.

    The caller hears "not allowed" and nothing of the address (how an internal name resolves is
    not theirs to learn); the log (a warning) keeps it for the operator."""
    log.warning("url import refused: %s resolves to %s, not a public address (URL %s)", host, address, url)
    return UrlImportError("address", errors.URL_ADDRESS.message.format(host=host), {"url": url, "host": host})


def _shut_down(sock: socket.socket) -> None:
    """Shut ``sock``'s connection down both ways (a read blocked on it, in any thread, returns at
    once); a socket already closed or never connected is left as it is."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _cause(error: BaseException) -> str:
    """What went wrong, in short, from a requests/urllib3 error (requests wraps urllib3's
    ``MaxRetryError``, whose ``reason`` is the connection's own error)."""
    inner = error.args[0] if error.args and isinstance(error.args[0], BaseException) else error
    inner = getattr(inner, "reason", None) or inner
    return re.sub(r"^<[^>]*>: ", "", str(inner))[:300]
