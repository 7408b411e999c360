"""Public images: ``/api/images/{media_id}``, proxied to the media VM."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse

from main_api.common.exceptions import ApplicationError, error_body
from main_api.common.views import read_only_view
from main_api.media import vm_client
from main_api.media.errors import IMAGE_NOT_FOUND
from main_api.media.selectors.uploads import default_background_for_media
from shared.naming import is_media_id


@read_only_view  # a POST is a JSON 405, not Django's HTML CSRF page
def image_proxy(request: HttpRequest, media_id: str) -> HttpResponse:
    """``GET /api/images/{media_id}?size=&format=&bg=``: public, proxied to the media VM.

    A plain Django view: the answer is an image, and DRF's content negotiation would refuse
    an ``Accept: image/avif`` that only the media VM can satisfy.
    """
    if not is_media_id(media_id):
        return JsonResponse(error_body(IMAGE_NOT_FOUND.message, {"media_id": media_id}), status=404)
    params = request.GET.dict()
    if "bg" not in params:  # a logo's owner may have chosen its background-removed set
        background = default_background_for_media(media_id=media_id)
        if background is not None:
            params["bg"] = background
    try:
        upstream = vm_client.serve_open(
            media_id=media_id,
            method=request.method or "GET",
            params=params,
            headers={name: request.headers[name] for name in vm_client.REQUEST_HEADERS if name in request.headers},
        )
    except ApplicationError as e:
        return JsonResponse(error_body(e.message, e.extra), status=e.status_code)

    if upstream.status_code in (302, 304) or request.method == "HEAD":
        upstream.close()
        response: HttpResponse | StreamingHttpResponse = HttpResponse(status=upstream.status_code)
        if "Content-Type" not in upstream.headers:
            del response["Content-Type"]
    else:
        response = StreamingHttpResponse(vm_client.body_chunks(upstream), status=upstream.status_code)
    for name, value in vm_client.passed_headers(upstream).items():
        response[name] = value
    if upstream.status_code in (200, 304):
        # an hour, or less when the VM says less (a stand-in for a size still being made)
        response["Cache-Control"] = cache_control = vm_client.proxy_cache_control(upstream.headers.get("Cache-Control"))
        age = vm_client.max_age_of(cache_control)
        if age < vm_client.PROXY_MAX_AGE_SECONDS:
            # the shipped nginx ignores Cache-Control (it keeps an image 60 s, then revalidates) but
            # honours this, and takes it off the answer: a stand-in stays its few seconds there too
            response["X-Accel-Expires"] = str(age)
    elif upstream.status_code == 302:  # a signed URL: only as the VM allows (private, short)
        response["Cache-Control"] = upstream.headers.get("Cache-Control", "no-cache")
    else:
        response["Cache-Control"] = "no-cache"
    response["Vary"] = "Accept"
    return response
