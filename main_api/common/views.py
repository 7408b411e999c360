"""JSON answers for what never reaches a DRF view (unknown URLs, crashes, methods a plain view
does not take), and the plain views ``/health`` and ``/metrics``."""

from __future__ import annotations

import functools
from collections.abc import Callable

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from main_api.common.exceptions import error_body

PlainView = Callable[..., HttpResponse]


def read_only_view(view: PlainView) -> PlainView:
    """For a plain Django view that only reads (``GET``/``HEAD``): ``OPTIONS`` answers its
    ``Allow``, any other method a JSON 405 with ``Allow``, never Django's HTML CSRF page.

    It is CSRF-exempt: CSRF guards writes, and every method it lets through is a read.
    DRF views have all of this already. An async view stays async.
    """
    allow = "GET, HEAD, OPTIONS"

    def refused(request: HttpRequest) -> HttpResponse:
        if request.method == "OPTIONS":
            response: HttpResponse = HttpResponse(status=200)
            response["Content-Length"] = "0"
        else:
            response = JsonResponse(error_body("Method not allowed.", {"method": request.method, "allowed":
                                                                      allow.split(", ")}), status=405)
        response["Allow"] = allow
        return response

    if iscoroutinefunction(view):
        @functools.wraps(view)
        async def awaited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method in ("GET", "HEAD"):
                return await view(request, *args, **kwargs)  # type: ignore[no-any-return, misc]
            return refused(request)

        return csrf_exempt(awaited)  # type: ignore[return-value]

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        return refused(request)

    return csrf_exempt(wrapped)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """``handler400``: e.g. a disallowed Host or an oversized form outside the API views."""
    return JsonResponse(error_body("Bad request."), status=400)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """``handler403``."""
    return JsonResponse(error_body("Forbidden."), status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """``handler404``: a JSON 404 for any unknown URL."""
    return JsonResponse(error_body("Not found."), status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    """``handler500``: a JSON 500 without a stack trace."""
    return JsonResponse(error_body("Internal server error."), status=500)


@read_only_view
def health(request: HttpRequest) -> JsonResponse:
    """``GET /health``: 200 when the database answers and the temp folder is writable."""
    import tempfile

    from django.conf import settings
    from django.db import connection

    checks = {"database": "ok", "temp_images": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as e:  # noqa: BLE001 - any database failure makes the service unhealthy
        checks["database"] = f"error: {type(e).__name__}"
    try:
        settings.TEMP_IMAGES_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=settings.TEMP_IMAGES_DIR):
            pass
    except OSError as e:
        checks["temp_images"] = f"error: {type(e).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if ok else "unhealthy", **checks}, status=200 if ok else 503)


@read_only_view
def metrics(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: Prometheus text, to a scraper holding ``METRICS_TOKEN`` or a media key.

    Both go in ``Authorization: Bearer <token>``; anything else is a 401.
    """
    import hmac

    from django.conf import settings

    from main_api.common import metrics as metrics_module
    from main_api.common.authentication import bearer_value, media_key_matches

    given = bearer_value(request) or ""
    token_ok = bool(settings.METRICS_TOKEN) and hmac.compare_digest(
        given.encode("utf-8"), settings.METRICS_TOKEN.encode("utf-8")
    )
    if not given or not (token_ok or media_key_matches(given) is not None):
        response = JsonResponse(
            error_body("Metrics need Authorization: Bearer <METRICS_TOKEN or MEDIA_API_KEY>."), status=401
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_module.exposition(), content_type=metrics_module.CONTENT_TYPE)
