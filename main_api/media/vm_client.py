"""The main API's one client of the media VM (``MEDIA_BACKEND_URL``): one ``requests`` session
per thread, one error mapping.

- :func:`serve_open` (+ :func:`passed_headers`, :func:`body_chunks`): the public image URL
  ``/api/images/{media_id}`` streams the VM's ``/serve``. Browsers and CDNs talk to the main
  API only; the media VM stays private. Conditional headers go upstream so a 304 costs no
  bytes. A VM whose variants are in an object store with ``MEDIA_S3_SERVE=redirect`` answers
  with a 302 to a signed URL, which the view passes on.
- :func:`similar_get`: the VM's ``/similar`` JSON.
- :func:`media_vm_status_get`: the VM's ``/health`` and ``/metrics`` for the admin dashboard.

Every request goes through :func:`_request`, which sends the media key (``Authorization:
Bearer <first MEDIA_API_KEY>``, the scheme the VM uses towards us): the VM answers only
``/serve`` and a bare ``/health`` without it. A VM that cannot be reached (or answers an error
of its own) is :class:`MediaBackendUnavailable` (502), one too slow :class:`MediaBackendTimeout`
(504), both :class:`MediaBackendError`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import requests
from django.conf import settings
from rest_framework import status

from main_api.common.exceptions import ApplicationError
from main_api.media.errors import IMAGE_BACKEND_ERROR, IMAGE_BACKEND_TIMEOUT, IMAGE_BACKEND_UNAVAILABLE

log = logging.getLogger(__name__)

#: Query parameters that ``/serve`` understands; nothing else is passed on.
QUERY_PARAMS = ("size", "format", "bg")
REQUEST_HEADERS = ("Accept", "If-None-Match", "If-Modified-Since")
RESPONSE_HEADERS = ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Location")
#: Upstream answers passed through as they are (a 4xx only with the VM's JSON error body); any
#: other 4xx becomes the same status with our JSON error, anything else a 502.
PASSED_STATUSES = frozenset({200, 302, 304, 400, 404})
#: Upstream 4xx that say the main API, not its client, is at fault (a wrong media key): 502.
VM_FAULT_STATUSES = frozenset({401, 403, 407})
CHUNK_BYTES = 64 * 1024

_local = threading.local()


class MediaBackendError(ApplicationError):
    """The media VM could not give an answer; ``extra`` names the ``media_id`` when there is one."""


class MediaBackendUnavailable(MediaBackendError):
    """502: the media VM cannot be reached, or answered with an error of its own."""

    status_code = status.HTTP_502_BAD_GATEWAY


class MediaBackendTimeout(MediaBackendError):
    """504: the media VM did not answer within ``MEDIA_PROXY_TIMEOUT`` (or the given timeout)."""

    status_code = status.HTTP_504_GATEWAY_TIMEOUT


def _session() -> requests.Session:
    # A session per thread: pooled connections to the VM, no sharing across threads.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def media_key_header() -> dict[str, str]:
    """``{"Authorization": "Bearer <key>"}`` with the first of ``MEDIA_API_KEY`` (the current
    key while rotating; the VM accepts every key of its ``MAIN_API_KEY``), or ``{}`` without one."""
    keys = settings.MEDIA_API_KEYS
    return {"Authorization": f"Bearer {keys[0]}"} if keys else {}


def _request(
    method: str, path: str, *, media_id: str | None = None, timeout: float | None = None, **kwargs: Any
) -> requests.Response:
    """One request to ``{MEDIA_BACKEND_URL}{path}`` (redirects are not followed); ``timeout``
    (connect and each read) defaults to ``MEDIA_PROXY_TIMEOUT``.

    Raises :class:`MediaBackendTimeout` (504) and :class:`MediaBackendUnavailable` (502), their
    ``extra`` holding ``media_id`` when given, and the ``requests`` error as ``__cause__``.
    """
    timeout = float(settings.MEDIA_PROXY_TIMEOUT if timeout is None else timeout)
    extra = {"media_id": media_id} if media_id is not None else {}
    headers = {**kwargs.pop("headers", {}), **media_key_header()}
    try:
        return _session().request(method, f"{settings.MEDIA_BACKEND_URL}{path}", timeout=(timeout, timeout),
                                  allow_redirects=False, headers=headers, **kwargs)
    except requests.Timeout as e:
        log.warning("media backend timed out on %s: %s", path, e)
        raise MediaBackendTimeout(IMAGE_BACKEND_TIMEOUT.message, extra) from e
    except requests.RequestException as e:
        log.warning("media backend unavailable on %s: %s", path, e)
        raise MediaBackendUnavailable(IMAGE_BACKEND_UNAVAILABLE.message, extra) from e


def serve_open(*, media_id: str, method: str, params: dict[str, str], headers: dict[str, str]) -> requests.Response:
    """Open ``{MEDIA_BACKEND_URL}/serve/{media_id}`` as a stream; the caller closes it.

    Raises :class:`MediaBackendUnavailable` (502) when the VM cannot be reached or answers
    with an error of its own, :class:`MediaBackendTimeout` (504) when it is too slow, and an
    :class:`ApplicationError` of the VM's status when it refused the client's request with a
    4xx this module does not pass through (431 for oversized headers, 414, ...).
    """
    response = _request(
        method, f"/serve/{media_id}", media_id=media_id,
        params={k: v for k, v in params.items() if k in QUERY_PARAMS},
        headers={k: v for k, v in headers.items() if k in REQUEST_HEADERS},
        stream=True,
    )
    code = response.status_code
    if code in PASSED_STATUSES and (code < 400 or _is_json(response)):
        return response
    response.close()
    extra = {"media_id": media_id, "upstream_status": code}
    if 400 <= code < 500 and code not in VM_FAULT_STATUSES:
        # The client's request was at fault (a 431 for an 8-16 kB Accept, ...): its error, not ours.
        log.info("media backend refused a request for %s with %s", media_id, code)
        raise ApplicationError(f"the media backend refused the request: {_reason(code)}", extra, status_code=code)
    log.warning("media backend answered %s for %s", code, media_id)
    raise MediaBackendUnavailable(IMAGE_BACKEND_ERROR.message, extra)


def _is_json(response: requests.Response) -> bool:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower() == "application/json"


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return str(code)


def passed_headers(response: requests.Response) -> dict[str, Any]:
    """The upstream headers the client gets."""
    return {name: response.headers[name] for name in RESPONSE_HEADERS if name in response.headers}


#: How long ``/api/images`` lets browsers and shared caches (nginx, a CDN) keep an image.
PROXY_MAX_AGE_SECONDS = 3600
_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*(\d+)", re.IGNORECASE)


def proxy_cache_control(upstream: str | None) -> str:
    """The ``Cache-Control`` of a 200/304 of ``/api/images``: ``public, max-age=3600``, or the
    media VM's own when it allows less (a stand-in for a size still being made says
    ``max-age=5``: an hour would keep the stand-in in every cache long after the real size
    exists). ``upstream``: the VM's header, None when it sent none."""
    return f"public, max-age={min(max_age_of(upstream or ''), PROXY_MAX_AGE_SECONDS)}"


def max_age_of(cache_control: str) -> int:
    """The smallest ``max-age`` (seconds) in a ``Cache-Control`` value;
    :data:`PROXY_MAX_AGE_SECONDS` when it names none."""
    ages = [int(m) for m in _MAX_AGE.findall(cache_control)]
    return min(ages) if ages else PROXY_MAX_AGE_SECONDS


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
    response = _request("GET", f"/similar/{media_id}", media_id=media_id, params=params)
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
            IMAGE_BACKEND_ERROR.message, {"media_id": media_id, "upstream_status": response.status_code}
        )
    return body


# --- status, for the admin dashboard ---------------------------------------------------------


@dataclass(frozen=True)
class MediaVmStatus:
    """The media VM as its ``/health`` and ``/metrics`` describe it."""

    url: str
    reachable: bool
    error: str = ""
    health: dict[str, Any] = field(default_factory=dict)
    jobs: dict[str, int] = field(default_factory=dict)
    step_failures: dict[str, int] = field(default_factory=dict)
    #: ``(worker id, pending images it saw at its last poll, seconds since its last heartbeat)``
    workers: list[tuple[str, int, float | None]] = field(default_factory=list)
    average_processing_seconds: float | None = None

    @property
    def healthy(self) -> bool:
        return self.reachable and self.health.get("status") == "ok"


def _metric_samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    from prometheus_client.parser import text_string_to_metric_families

    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
    return samples


def media_vm_status_get(*, timeout: float | None = None) -> MediaVmStatus:
    """Read ``{MEDIA_BACKEND_URL}/health`` and ``/metrics`` with a short timeout.

    Never raises: a VM that cannot be reached, or answers nonsense, is reported as such.
    """
    base = settings.MEDIA_BACKEND_URL
    timeout = settings.MEDIA_VM_STATUS_TIMEOUT if timeout is None else timeout
    try:
        health = _request("GET", "/health", timeout=timeout).json()
        metrics_response = _request("GET", "/metrics", timeout=timeout)
        metrics_response.raise_for_status()
        samples = _metric_samples(metrics_response.text)
    except (MediaBackendError, requests.RequestException, ValueError) as e:
        cause = e.__cause__ if isinstance(e, MediaBackendError) and e.__cause__ is not None else e
        return MediaVmStatus(url=base, reachable=False, error=f"{type(cause).__name__}: {cause}"[:300])

    now = time.time()
    depth = {labels.get("worker", ""): int(v) for labels, v in samples.get("media_vm_queue_depth_seen", [])}
    seen = {labels.get("worker", ""): v for labels, v in samples.get("media_vm_worker_last_seen_timestamp", [])}
    count = sum(v for _, v in samples.get("media_vm_processing_seconds_count", []))
    total = sum(v for _, v in samples.get("media_vm_processing_seconds_sum", []))
    return MediaVmStatus(
        url=base,
        reachable=True,
        health=health if isinstance(health, dict) else {"status": str(health)},
        jobs={labels.get("state", ""): int(v) for labels, v in samples.get("media_vm_jobs", [])},
        step_failures={labels.get("step", ""): int(v) for labels, v in samples.get("media_vm_step_failures", [])},
        workers=[
            (worker, depth.get(worker, 0), max(0.0, now - seen[worker]) if worker in seen else None)
            for worker in sorted(set(depth) | set(seen))
        ],
        average_processing_seconds=total / count if count else None,
    )
