"""Oracles for variants: fetch one over HTTP, decode it, measure it."""

from __future__ import annotations

import pyvips
import requests

from shared.sizes import SIZES_BY_NAME, Fit

LOADERS = {"avif": "heifload", "webp": "webpload", "jpeg": "jpegload", "png": "pngload"}
METADATA_FIELDS = ("exif-data", "orientation", "xmp-data", "iptc-data", "icc-profile-data")


def fetch(base: str, media_id: str, *, size: str, fmt: str, bg: str = "original") -> pyvips.Image:
    r = requests.get(f"{base}/serve/{media_id}", params={"size": size, "format": fmt, "bg": bg}, timeout=30)
    assert r.status_code == 200, (media_id, size, fmt, r.text[:200])
    assert r.headers["Content-Type"] == f"image/{fmt}"
    image = pyvips.Image.new_from_buffer(r.content, "")
    assert image.get("vips-loader").startswith(LOADERS[fmt]), (fmt, image.get("vips-loader"))
    return image


def check_geometry(image: pyvips.Image, size: str, original: tuple[int, int]) -> None:
    """Inside the box, exact for crops when the original is big enough, never enlarged."""
    box = SIZES_BY_NAME[size]
    ow, oh = original
    w, h = image.width, image.height
    assert w <= box.width and h <= box.height, (size, w, h)
    assert w <= ow and h <= oh, f"{size} enlarged: {w}x{h} from {ow}x{oh}"
    if box.fit is Fit.CROP:
        if ow >= box.width and oh >= box.height:
            assert (w, h) == (box.width, box.height), (size, w, h)
        else:
            assert abs(w / h - box.width / box.height) < 0.02, (size, w, h)
    else:
        scale = min(box.width / ow, box.height / oh, 1.0)
        assert abs(w - round(ow * scale)) <= 1 and abs(h - round(oh * scale)) <= 1, (size, w, h, ow, oh)


def check_clean(image: pyvips.Image) -> None:
    """No EXIF (so no GPS), no orientation tag, no XMP/IPTC left; 8-bit sRGB."""
    fields = set(image.get_fields())
    leaked = [f for f in METADATA_FIELDS if f in fields]
    assert not leaked, f"metadata left in a variant: {leaked}"
    assert image.format == "uchar"
    assert image.interpretation in ("srgb", "b-w") or image.bands in (3, 4)
