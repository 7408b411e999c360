"""The ``<picture>`` of an upload, computed once for the template tag (``smart-image.js``
computes the same in the browser from the same upload object).

A ``srcset`` only mixes sizes of one shape: the fitted sizes (small, detail, zoom; an
artwork's display) keep the image's aspect ratio, the square crops (icon, thumbnail, grid) are
1:1, the header is 3:1. Mixing them would let the browser swap a crop for a whole image. A
preset output (``normal``, ``hq``: a tool's own sizes) is never mixed in.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from shared.sizes import SIZES_BY_NAME, Fit, nearest_size

#: the MIME type of each format a ``<source>`` names
MIME_TYPES = {"avif": "image/avif", "webp": "image/webp", "jpeg": "image/jpeg", "png": "image/png"}


def size_family(name: str) -> str | None:
    """Sizes whose files share a shape: ``"fit"`` for the fitted ones, else the crop's box; None
    for a name that is no display size (a preset output), which no ``srcset`` takes."""
    size = SIZES_BY_NAME.get(name)
    if size is None:
        return None
    if size.fit is Fit.INSIDE:
        return "fit"
    ratio = size.width / size.height
    return f"crop:{ratio:.3f}"


def variant_url(url: str, *, image_format: str | None = None, background: str | None = None) -> str:
    """``url`` with ``format=`` (and ``bg=`` when ``background`` is given) set in its query."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if image_format:
        query["format"] = image_format
    if background == "removed":
        query["bg"] = "removed"
    elif background == "original":
        query.pop("bg", None)
    return urlunsplit(parts._replace(query=urlencode(query)))


def transparent(upload: dict[str, Any], background: str | None = None) -> bool:
    """Whether the served image has transparency to keep (a PNG fallback, not a JPEG)."""
    shown = background or upload.get("background")
    analysis = upload.get("analysis") or {}
    return bool(analysis.get("has_alpha")) or (shown == "removed" and bool(upload.get("background_removed")))


def alt_text(upload: dict[str, Any]) -> str:
    """A short description for ``alt``: the logo's text, else the subject and medium the
    analysis found, else the file name."""
    analysis = upload.get("analysis") or {}
    text = (analysis.get("detected_text") or "").strip()
    if upload.get("data_type") == "logo" and text:
        return f"Logo: {text[:80]}"
    subject = (analysis.get("subject_matter") or {}).get("label") if isinstance(
        analysis.get("subject_matter"), dict) else None
    medium = analysis.get("medium_detected")
    words = [w for w in (subject, medium) if isinstance(w, str) and w]
    if words:
        return ", ".join(words).capitalize()
    return upload.get("original_name") or "Uploaded image"


def picture_data(upload: dict[str, Any], size: str = "detail", *, background: str | None = None
                 ) -> dict[str, Any] | None:
    """What ``<picture>`` shows for ``upload`` (the upload object) at ``size``: ``sources``
    (``type``, ``srcset``) for AVIF and WebP, the fallback ``src`` (JPEG, or PNG where
    transparency must survive), ``width``/``height`` of the chosen size's real file, ``srcset``
    of the fallback. None while the upload has no variants (pending or failed)."""
    variants = [v for v in upload.get("variants") or [] if v.get("width") and v.get("height")]
    family = size_family(size)
    same_shape = [v for v in variants if family is not None and size_family(v["size"]) == family]
    if not same_shape:
        return None
    chosen_name = nearest_size(size, [v["size"] for v in same_shape]) or same_shape[-1]["size"]
    chosen = next(v for v in same_shape if v["size"] == chosen_name)
    fallback = "png" if transparent(upload, background) else "jpeg"

    def srcset(image_format: str) -> str:
        return ", ".join(
            f"{variant_url(v['url'], image_format=image_format, background=background)} {v['width']}w"
            for v in same_shape if image_format in v.get("formats", ())
        )

    sources = [{"type": MIME_TYPES[f], "srcset": srcset(f)} for f in ("avif", "webp") if f in chosen["formats"]]
    return {
        "sources": sources,
        "srcset": srcset(fallback),
        "src": variant_url(chosen["url"], image_format=fallback, background=background),
        "width": chosen["width"],
        "height": chosen["height"],
        "placeholder": upload.get("placeholder"),
    }
