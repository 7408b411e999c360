"""``{% load smart_images %}``: server-rendered pictures of uploads, and the component's URL.

``{% smart_picture upload size="detail" sizes="(min-width: 800px) 50vw, 100vw" %}`` renders the
``<picture>`` that ``<smart-image>`` renders in the browser (AVIF and WebP ``<source>``s, a
JPEG or PNG ``<img>`` with ``srcset`` ``w`` descriptors, ``width``/``height``, ``alt`` and
``loading="lazy"``), with no JavaScript. ``upload`` is a ``Upload`` or the upload object
(``GET /api/uploads/{id}``).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from django import template
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.templatetags.static import static

from main_api.frontend.pictures import alt_text, picture_data
from main_api.media.models import Upload
from main_api.media.upload_object import upload_detail

register = template.Library()


def upload_object(upload: Upload | dict[str, Any]) -> dict[str, Any]:
    """The upload object of ``upload`` (a row, or already the object)."""
    return upload_detail(upload) if isinstance(upload, Upload) else upload


@register.inclusion_tag("frontend/picture.html")
def smart_picture(upload: Upload | dict[str, Any] | None, size: str = "detail", sizes: str = "100vw",
                  alt: str | None = None, loading: str = "lazy", background: str | None = None,
                  css_class: str = "") -> dict[str, Any]:
    """The ``<picture>`` of ``upload`` at ``size`` (see the module doc); nothing while it has no
    image yet (pending or failed)."""
    if upload is None:
        return {"picture": None}
    data = upload_object(upload)
    picture = picture_data(data, size, background=background)
    if picture is not None:
        picture.update(sizes=sizes, loading=loading, alt=alt if alt is not None else alt_text(data),
                       css_class=css_class)
    return {"picture": picture}


@lru_cache(maxsize=32)
def _file_version(path: str) -> str:
    found = finders.find(path)
    if not found:
        return "0"
    with open(found, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


@register.simple_tag
def versioned_static(path: str) -> str:
    """The URL of a static file that may be cached for a year: the hashed name where the
    storage hashes (production: ``main_api.common.static_storage``), else ``?v=`` with
    the file's hash (development and tests)."""
    url = static(path)
    if isinstance(staticfiles_storage, ManifestFilesMixin):
        return url
    return f"{url}?v={_file_version(path)}"
