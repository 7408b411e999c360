"""The public image URL ``/api/images/{media_id}``: a streaming proxy to the media VM's ``/serve``.

Browsers and CDNs talk to the main API only; the media VM stays private. Conditional
headers go upstream so a 304 costs no bytes, and the answer is cacheable for an hour.
A VM whose variants are in an object store with ``MEDIA_S3_SERVE=redirect`` answers with a
302 to a signed URL: that is passed on with the VM's Cache-Control (private: the browser
alone may keep it, for less than the signature lives), and the browser fetches the bytes
from the store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import requests
from django.conf import settings
from rest_framework import status

from main_api.common.exceptions import ApplicationError

log = logging.getLogger(__name__)

#: Query parameters that ``/serve`` understands; nothing else is passed on.
QUERY_PARAMS = ("size", "format", "bg")
REQUEST_HEADERS = ("Accept", "If-None-Match", "If-Modified-Since")
RESPONSE_HEADERS = ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Location")
#: Upstream answers passed through as they are; any other becomes a 502.
PASSED_STATUSES = frozenset({200, 302, 304, 400, 404})
CHUNK_BYTES = 64 * 1024

_local = threading.local()


class MediaBackendUnavailable(ApplicationError):
    status_code = status.HTTP_502_BAD_GATEWAY


class MediaBackendTimeout(ApplicationError):
    status_code = status.HTTP_504_GATEWAY_TIMEOUT


def _session() -> requests.Session:
    # A session per thread: pooled connections to the VM, no sharing across threads.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def _backend_request(method: str, path: str, media_id: str, **kwargs: Any) -> requests.Response:
    """One request to the media VM, its failures mapped to :class:`MediaBackendTimeout` (504)
    and :class:`MediaBackendUnavailable` (502)."""
    timeout = float(settings.MEDIA_PROXY_TIMEOUT)
    try:
        return _session().request(method, f"{settings.MEDIA_BACKEND_URL}{path}", timeout=(timeout, timeout),
                                  allow_redirects=False, **kwargs)
    except requests.Timeout as e:
        log.warning("media backend timed out on %s: %s", path, e)
        raise MediaBackendTimeout("media backend timed out", {"media_id": media_id}) from e
    except requests.RequestException as e:
        log.warning("media backend unavailable on %s: %s", path, e)
        raise MediaBackendUnavailable("media backend unavailable", {"media_id": media_id}) from e


def serve_open(*, media_id: str, method: str, params: dict[str, str], headers: dict[str, str]) -> requests.Response:
    """Open ``{MEDIA_BACKEND_URL}/serve/{media_id}`` as a stream; the caller closes it.

    Raises :class:`MediaBackendUnavailable` (502) when the VM cannot be reached or answers
    with an error of its own, :class:`MediaBackendTimeout` (504) when it is too slow.
    """
    response = _backend_request(
        method, f"/serve/{media_id}", media_id,
        params={k: v for k, v in params.items() if k in QUERY_PARAMS},
        headers={k: v for k, v in headers.items() if k in REQUEST_HEADERS},
        stream=True,
    )
    if response.status_code not in PASSED_STATUSES:
        response.close()
        log.warning("media backend answered %s for %s", response.status_code, media_id)
        raise MediaBackendUnavailable(
            "media backend error", {"media_id": media_id, "upstream_status": response.status_code}
        )
    return response


def passed_headers(response: requests.Response) -> dict[str, Any]:
    """The upstream headers the client gets."""
    return {name: response.headers[name] for name in RESPONSE_HEADERS if name in response.headers}


def body_chunks(response: requests.Response) -> Iterator[bytes]:
    """The upstream body in chunks; the upstream connection is closed when it ends."""
    try:
        yield from response.iter_content(CHUNK_BYTES)
    except requests.RequestException as e:
        # The status line is already sent; a short body is the only signal left.
        log.warning("media backend stream broke off: %s", e)
    finally:
        response.close()


def similar_get(*, media_id: str, params: dict[str, str]) -> dict[str, Any]:
    """The media VM's ``GET /similar/{media_id}`` answer (JSON), with the same 502/504 errors
    as :func:`serve_open`; the VM's 404 and 400 become ours."""
    response = _backend_request("GET", f"/similar/{media_id}", media_id, params=params)
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code in (400, 404) and isinstance(body, dict):
        raise ApplicationError(str(body.get("message", "error")), {"media_id": media_id},
                               status_code=response.status_code)
    if response.status_code != 200 or not isinstance(body, dict):
        log.warning("media backend answered %s for similar %s", response.status_code, media_id)
        raise MediaBackendUnavailable(
            "media backend error", {"media_id": media_id, "upstream_status": response.status_code}
        )
    return body
