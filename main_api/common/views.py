"""JSON answers for what never reaches a DRF view (unknown URLs, crashes)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from main_api.common.exceptions import error_body


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """``handler404``: a JSON 404 for any unknown URL."""
    return JsonResponse(error_body("Not found."), status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    """``handler500``: a JSON 500 without a stack trace."""
    return JsonResponse(error_body("Internal server error."), status=500)
