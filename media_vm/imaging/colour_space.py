"""Colour normalisation: every decoded image ends as 8-bit sRGB, with alpha only where it is real.

Inputs arrive as CMYK, 16-bit, greyscale, 1-bit, palette, with or without an embedded ICC
profile. Variants are saved without metadata (``keep="none"``), which tells browsers "sRGB",
so the pixels must really be sRGB before saving.
"""

from __future__ import annotations

import pyvips

#: White, for flattening alpha (JPEG has none).
WHITE: tuple[float, float, float] = (255.0, 255.0, 255.0)


def to_srgb8(image: pyvips.Image) -> pyvips.Image:
    """Return ``image`` as 8-bit sRGB (3 bands, or 4 with its alpha).

    An embedded ICC profile is honoured (``icc_transform`` to sRGB, relative intent); CMYK
    without one goes through libvips' fallback CMYK profile; everything else (grey, 1-bit,
    16-bit, Lab...) through ``colourspace``. A broken embedded profile falls back to
    ``colourspace`` rather than failing the upload.
    """
    if image.get_typeof("icc-profile-data"):
        try:
            image = image.icc_transform("srgb", embedded=True, intent="relative", depth=8)
        except pyvips.Error:
            pass
        image = _without(image, "icc-profile-data")
    if image.interpretation == "cmyk":
        image = image.icc_transform("srgb", input_profile="cmyk", intent="relative", depth=8)
    if image.format == "ushort" and image.interpretation not in ("rgb16", "grey16"):
        # 16-bit data mislabelled (e.g. a TIFF tagged plain RGB): say what it is so
        # colourspace scales 0-65535 down instead of clipping.
        image = image.copy(interpretation="rgb16" if image.bands >= 3 else "grey16")
    if image.interpretation != "srgb":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        # e.g. a float or 16-bit image already tagged sRGB; cast clips to 0-255.
        image = image.cast("uchar")
    return image


def has_real_alpha(image: pyvips.Image) -> bool:
    """True when ``image`` has an alpha band and at least one pixel is not fully opaque.

    GIF and some PNG/TIFF encoders add an alpha band that is opaque everywhere; keeping it
    would double the variants (PNG) for nothing. This computes a ``min``, so call it on a
    decoded (in-memory) image.
    """
    return bool(image.hasalpha()) and image[image.bands - 1].min() < 255


def drop_opaque_alpha(image: pyvips.Image) -> pyvips.Image:
    """``image`` without its alpha band when that band is opaque everywhere; else unchanged."""
    if image.hasalpha() and not has_real_alpha(image):
        return image.extract_band(0, n=image.bands - 1)
    return image


def flatten_on_white(image: pyvips.Image) -> pyvips.Image:
    """Composite alpha over white (for JPEG); images without alpha come back unchanged."""
    if not image.hasalpha():
        return image
    return image.flatten(background=list(WHITE)).cast("uchar")


def _without(image: pyvips.Image, field: str) -> pyvips.Image:
    out = image.copy()
    out.remove(field)
    return out
