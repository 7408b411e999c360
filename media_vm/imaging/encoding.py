"""Encoding a finished variant to bytes, one function per output format.

Every saver gets ``keep="none"``: no EXIF (orientation was already applied; GPS must not
leak), no XMP/IPTC, no ICC profile (pixels are sRGB, which is what browsers assume).
"""

from __future__ import annotations

from collections.abc import Callable

import pyvips

from media_vm.imaging import defaults
from media_vm.imaging.colour_space import flatten_on_white
from shared.data_types import DataType
from shared.sizes import ImageFormat

#: Formats of the background-removed set of a logo: those that carry alpha.
REMOVED_BG_FORMATS: tuple[ImageFormat, ...] = (ImageFormat.AVIF, ImageFormat.WEBP, ImageFormat.PNG)


def formats_for(*, has_alpha: bool, data_type: DataType) -> tuple[ImageFormat, ...]:
    """Formats of the original-background set: AVIF, WebP, JPEG, plus PNG for alpha or logos."""
    base = (ImageFormat.AVIF, ImageFormat.WEBP, ImageFormat.JPEG)
    if has_alpha or DataType(data_type) is DataType.LOGO:
        return (*base, ImageFormat.PNG)
    return base


def encode(image: pyvips.Image, fmt: ImageFormat, *, avif_effort: int = defaults.AVIF_EFFORT) -> bytes:
    """``image`` (8-bit sRGB, optional alpha) encoded as ``fmt``. JPEG flattens alpha on white."""
    fmt = ImageFormat(fmt)
    if not 0 <= avif_effort <= 9:
        raise ValueError(f"avif_effort must be 0-9, got {avif_effort}")
    if fmt is ImageFormat.AVIF:
        return _avif(image, avif_effort)
    return _ENCODERS[fmt](image)


def _avif(image: pyvips.Image, effort: int) -> bytes:
    return bytes(
        image.heifsave_buffer(compression="av1", Q=defaults.AVIF_QUALITY, effort=effort, bitdepth=8, keep="none")
    )


def _webp(image: pyvips.Image) -> bytes:
    return bytes(image.webpsave_buffer(Q=defaults.WEBP_QUALITY, effort=defaults.WEBP_EFFORT, keep="none"))


def _jpeg(image: pyvips.Image) -> bytes:
    return bytes(
        flatten_on_white(image).jpegsave_buffer(
            Q=defaults.JPEG_QUALITY, optimize_coding=True, interlace=True, keep="none"
        )
    )


def _png(image: pyvips.Image) -> bytes:
    return bytes(image.pngsave_buffer(compression=defaults.PNG_COMPRESSION, keep="none"))


_ENCODERS: dict[ImageFormat, Callable[[pyvips.Image], bytes]] = {
    ImageFormat.WEBP: _webp,
    ImageFormat.JPEG: _jpeg,
    ImageFormat.PNG: _png,
}
