"""Middleware of the main API: the request id, the request metrics, methods refused everywhere,
and JSON for unknown URLs whatever ``DEBUG`` says."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from main_api.common import metrics
from main_api.common.exceptions import MEDIA_VM_PATH_PREFIX, error_body, error_body_for_path
from main_api.common.logging_setup import request_id_var
from main_api.common.views import not_found

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


class JsonNotFoundMiddleware:
    """Answers a URL that matches no route with ``handler404``'s JSON 404 in ``DEBUG`` too.

    With ``DEBUG`` on (``make run``), Django answers an unknown URL with its HTML debug page and
    never calls ``handler404``; a frontend developer calling ``/api/...`` against ``make run``
    would then get HTML where production answers JSON. A 404 from a view that was found (a demo
    page's "no such artist", an API's JSON 404) is left as it is. In production it changes
    nothing: ``handler404`` already answers JSON. Placed outside ``CommonMiddleware``, whose
    ``APPEND_SLASH`` redirect comes first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 404 and getattr(request, "resolver_match", None) is None \
                and not response.get("Content-Type", "").startswith("application/json"):
            return not_found(request)
        return response


class MediaVmErrorShapeMiddleware:
    """Gives every JSON error answer under ``/api/media/*`` the seed's ``"success": false``
    (``main_api.common.exceptions.error_body_for_path``), whoever made it: a view's error, DRF's
    401 and 405, an unknown route's 404, a crash's 500. Put it outside every middleware that
    answers by itself (``RefusedMethodsMiddleware``, ``JsonNotFoundMiddleware``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or response.streaming or not request.path.startswith(MEDIA_VM_PATH_PREFIX) \
                or not response.get("Content-Type", "").startswith("application/json"):
            return response
        try:
            body = json.loads(response.content)
        except ValueError:
            return response
        shaped = error_body_for_path(request.path, body)
        if shaped is not body:
            response.content = json.dumps(shaped).encode()
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response
