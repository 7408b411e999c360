"""One error type for the API, and one handler that turns every error into the same JSON.

Every error answer has the shape ``{"message": str, "extra": dict}``; under
:data:`MEDIA_VM_PATH_PREFIX` (the API the media VM calls) also ``"success": false``, the seed's
key every answer there carries (:func:`error_body_for_path`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from django.utils.log import log_response
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApplicationError(Exception):
    """A failure the client should hear about: a message, details, and an HTTP status.

    ``headers``: extra headers of the answer (``Retry-After``). ``log_level``: how the answer is
    logged (``"warning"``, ``"error"``); None leaves it to Django (5xx an error, 4xx a warning). A
    5xx that reports what a host the user named did (a URL import's 502/504) says ``"warning"``:
    an error log is for what this server got wrong.
    """

    status_code = status.HTTP_400_BAD_REQUEST
    log_level: str | None = None

    def __init__(self, message: str, extra: dict[str, Any] | None = None, *, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
        self.headers: dict[str, str] = {}
        if status_code is not None:
            self.status_code = status_code


class NotFoundError(ApplicationError):
    """404."""

    status_code = status.HTTP_404_NOT_FOUND


class ConflictError(ApplicationError):
    """409: the request contradicts the row's state."""

    status_code = status.HTTP_409_CONFLICT


class GoneError(ApplicationError):
    """410: what the request needs existed once and has been removed for good."""

    status_code = status.HTTP_410_GONE


class UploadTooLarge(ApplicationError, RequestDataTooBig):
    """Raised by the upload handler while the body is still being read.

    Also a ``RequestDataTooBig``, so that outside DRF (the admin, the CSRF middleware
    reading a form) Django answers it as a bad request instead of crashing.
    """

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


class InvalidImage(ApplicationError):
    """An upload that is not an image we accept; ``extra["field"]`` names the form field."""


#: The API the media VM calls (``/api/media/*``): every answer, an error too, says ``success``.
MEDIA_VM_PATH_PREFIX = "/api/media/"


def error_body(message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON body of every error answer."""
    return {"message": message, "extra": extra or {}}


def error_body_for_path(path: str, body: Any) -> Any:
    """``body`` (an error answer's JSON) as the request's ``path`` answers it: with
    ``"success": False`` first under :data:`MEDIA_VM_PATH_PREFIX`, unchanged elsewhere (or when it
    is no ``{"message", ...}`` object, or already says ``success``)."""
    if not path.startswith(MEDIA_VM_PATH_PREFIX) or not isinstance(body, dict) or "message" not in body \
            or "success" in body:
        return body
    return {"success": False, **body}


def _detail_message(detail: Any) -> str:
    if isinstance(detail, list | tuple) and detail:
        return _detail_message(detail[0])
    if isinstance(detail, dict) and detail:
        return _detail_message(next(iter(detail.values())))
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's ``EXCEPTION_HANDLER``: ``{"message", "extra"}`` for every handled error."""
    if isinstance(exc, ApplicationError):
        response = Response(error_body(exc.message, exc.extra), status=exc.status_code, headers=exc.headers)
        if exc.log_level is not None and "request" in context:
            request = context["request"]
            log_response("%s: %s", response.reason_phrase, request.path, response=response,
                         request=getattr(request, "_request", request), level=exc.log_level)
        return response

    if isinstance(exc, RequestDataTooBig):  # a body over DATA_UPLOAD_MAX_MEMORY_SIZE (not a file)
        return Response(error_body("request body too large",
                                   {"max_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}), status=413)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: let Django log it and answer 500 (handler500 below keeps it JSON)

    if isinstance(exc, drf_exceptions.ValidationError):
        response.data = error_body("Validation error", {"fields": exc.detail})
    elif isinstance(exc, drf_exceptions.APIException):
        response.data = error_body(_detail_message(exc.detail), {"code": exc.get_codes()})
    return response
