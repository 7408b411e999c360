"""The answer to a login attempt while its username or address is locked out (django-axes)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from main_api.common.exceptions import error_body

MESSAGE = "Too many failed logins: this account or address is locked out. Try again later or ask an operator."


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: 429 with ``Retry-After`` (seconds of ``AXES_COOLOFF_TIME``, an
    upper bound: the lockout ends that long after the last failure; absent when only an operator
    can unlock). JSON ``{"message", "extra": {"retry_after"}}`` to a client that asks for JSON,
    plain text to the admin's login form."""
    cooloff = settings.AXES_COOLOFF_TIME
    seconds = int(cooloff.total_seconds()) if cooloff else None
    wants_json = "application/json" in request.headers.get("Accept", "") or (
        request.headers.get("X-Requested-With") == "XMLHttpRequest")
    if wants_json:
        response: HttpResponse = JsonResponse(error_body(MESSAGE, {"retry_after": seconds}), status=429)
    else:
        response = HttpResponse(MESSAGE, status=429, content_type="text/plain; charset=utf-8")
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
