"""Middleware of the main API: the request id, the request metrics, and methods refused everywhere."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from main_api.common import metrics
from main_api.common.exceptions import error_body
from main_api.common.logging_setup import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
#: A client's id is kept only if it looks like one: no spaces, quotes or control characters to
#: smuggle into log lines, and short enough for the ``pending_images.request_id`` column.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def request_id_for(header: str | None) -> str:
    """The client's ``X-Request-ID`` when it is well formed, else a fresh one (32 hex)."""
    if header and _VALID_REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Takes ``X-Request-ID`` from the request (or makes one), exposes it as
    ``request.request_id`` and to every log line of the request, and echoes it in the answer.

    Put it first, so that everything after it logs with the id.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class MetricsMiddleware:
    """Counts every request by view and status, and times it (``main_api_http_*``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # The URL name, never the path: paths carry ids and would make a series per image.
        view = (match.view_name or match._func_path) if match else "unmatched"
        metrics.request_observed(
            view=view, method=request.method or "", status=response.status_code, seconds=time.perf_counter() - started
        )
        return response


#: Methods no view of the main API takes, refused before any view or middleware sees them:
#: TRACE echoes the request back (cross-site tracing), TRACK is IIS's TRACE, CONNECT is a proxy's.
REFUSED_METHODS = frozenset({"TRACE", "TRACK", "CONNECT"})


class RefusedMethodsMiddleware:
    """Answers :data:`REFUSED_METHODS` with a JSON 405 on every path (Django's plain views would
    otherwise run a TRACE as if it were a GET)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (request.method or "").upper() in REFUSED_METHODS:
            return JsonResponse(error_body("Method not allowed.", {"method": request.method}), status=405)
        return self.get_response(request)
