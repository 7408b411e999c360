"""The Content-Security-Policy of the demo site's pages (and only theirs: the API answers JSON,
the admin is Django's own and runs inline scripts).

No inline script, no inline style attribute, nothing from another origin: scripts, style sheets,
fonts and frames from this origin alone; images from this origin, ``data:`` (the ThumbHash
placeholder ``smart-image.js`` decodes to a PNG data URL under the image) and the origin of
``SMART_MEDIA_BASE_URL`` (the smart URLs of every ``srcset`` are absolute: this API's public
``/api/images``, which may be reached under another name than the page); requests
(``fetch``, the page's ``EventSource``, the uploads' ``XMLHttpRequest``) to this origin, and on
the artworks page also to the bucket a direct upload is posted to (``TEMP_STORAGE=s3``).

Style set through the CSSOM (``element.style.x = ...``, as the component does for its
placeholder) is not an inline style attribute and needs no allowance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL; None for a relative one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def policy(*, connect_src: Iterable[str] = ()) -> str:
    """The policy of a demo page; ``connect_src``: origins its scripts may also send requests to."""
    images = ["'self'", "data:"]
    media = origin_of(settings.SMART_MEDIA_BASE_URL)
    if media:
        images.append(media)
    connect = ["'self'", *dict.fromkeys(o for o in connect_src if o)]
    directives = {
        "default-src": ["'self'"],
        "img-src": images,
        "connect-src": connect,
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


View = Callable[..., HttpResponse]


def content_security_policy(view: View | None = None, *,
                            connect_src: Callable[[], Iterable[str]] | None = None) -> Any:
    """Decorate a demo view: its answers carry :func:`policy`. ``connect_src`` (called per
    request) names more origins the page's scripts send requests to. Use bare or with arguments."""

    def decorate(func: View) -> View:
        @wraps(func)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = func(request, *args, **kwargs)
            if HEADER not in response:
                response[HEADER] = policy(connect_src=connect_src() if connect_src else ())
            return response

        return wrapped

    return decorate(view) if view is not None else decorate
