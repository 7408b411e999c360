"""Encoding a finished variant to bytes, one function per output format.

Every saver gets ``keep="none"``: no EXIF (orientation was already applied; GPS must not
leak), no XMP/IPTC, no ICC profile (pixels are sRGB, which is what browsers assume).
"""

from __future__ import annotations

import pyvips

from media_vm.imaging import defaults
from media_vm.imaging.colour_space import flatten_on_white
from shared.data_types import DataType
from shared.sizes import ImageFormat, Size

#: Formats of the background-removed set of a logo: those that carry alpha.
REMOVED_BG_FORMATS: tuple[ImageFormat, ...] = (ImageFormat.AVIF, ImageFormat.WEBP, ImageFormat.PNG)


def formats_for(*, has_alpha: bool, data_type: DataType) -> tuple[ImageFormat, ...]:
    """Formats of the original-background set: AVIF, WebP, JPEG, plus PNG for alpha or logos."""
    base = (ImageFormat.AVIF, ImageFormat.WEBP, ImageFormat.JPEG)
    if has_alpha or DataType(data_type) is DataType.LOGO:
        return (*base, ImageFormat.PNG)
    return base


def encode(image: pyvips.Image, fmt: ImageFormat, *, avif_effort: int = defaults.AVIF_EFFORT,
           size: Size | None = None) -> bytes:
    """``image`` (8-bit sRGB, optional alpha) encoded as ``fmt``. JPEG flattens alpha on white.

    The quality, effort and compression are the defaults of ``media_vm/imaging/defaults.py``
    (``avif_effort`` for AVIF's effort), unless ``size`` (a named output of the outputs
    configuration, ``shared.outputs``) sets its own for ``fmt``."""
    fmt = ImageFormat(fmt)
    if not 0 <= avif_effort <= 9:
        raise ValueError(f"avif_effort must be 0-9, got {avif_effort}")

    def setting(name: str, default: int) -> int:
        value = size.setting(fmt, name) if size is not None else None
        return default if value is None else value

    if fmt is ImageFormat.AVIF:
        return bytes(image.heifsave_buffer(compression="av1", Q=setting("quality", defaults.AVIF_QUALITY),
                                           effort=setting("effort", avif_effort), bitdepth=8, keep="none"))
    if fmt is ImageFormat.WEBP:
        return bytes(image.webpsave_buffer(Q=setting("quality", defaults.WEBP_QUALITY),
                                           effort=setting("effort", defaults.WEBP_EFFORT), keep="none"))
    if fmt is ImageFormat.JPEG:
        return bytes(flatten_on_white(image).jpegsave_buffer(
            Q=setting("quality", defaults.JPEG_QUALITY), optimize_coding=True, interlace=True, keep="none"))
    return bytes(image.pngsave_buffer(compression=setting("compression", defaults.PNG_COMPRESSION), keep="none"))
