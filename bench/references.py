"""The references our pipeline is measured against, with the same sizes and settings.

``bare_pyvips``: what a careful developer writes straight on pyvips (thumbnail from the
file for each size, shrink-on-load, attention crops, the same encoder settings).
``pillow``: what a Django shop would write with Pillow (open, exif_transpose, resize with
LANCZOS per size, save AVIF, WebP and JPEG at comparable settings: libvips' AVIF ``effort``
e is libheif's speed 9 - e, which is libavif's ``speed`` in Pillow; both end in libaom).
"""

from __future__ import annotations

from pathlib import Path

from media_vm.imaging import defaults
from shared.sizes import SIZES, Fit


def bare_pyvips(source: Path, out: Path) -> int:
    import pyvips

    out.mkdir(parents=True, exist_ok=True)
    total = 0
    header = pyvips.Image.new_from_file(str(source))
    alpha = header.hasalpha()
    for size in SIZES:
        crop = "attention" if size.fit is Fit.CROP else "none"
        image = pyvips.Image.thumbnail(str(source), size.width, height=size.height, size="down", crop=crop)
        image = image.copy_memory()
        total += len(image.heifsave_buffer(compression="av1", Q=defaults.AVIF_QUALITY, effort=defaults.AVIF_EFFORT,
                                           bitdepth=8, keep="none"))
        total += len(image.webpsave_buffer(Q=defaults.WEBP_QUALITY, effort=defaults.WEBP_EFFORT, keep="none"))
        flat = image.flatten(background=[255, 255, 255]) if alpha else image
        total += len(flat.jpegsave_buffer(Q=defaults.JPEG_QUALITY, optimize_coding=True, interlace=True, keep="none"))
        if alpha:
            total += len(image.pngsave_buffer(compression=defaults.PNG_COMPRESSION, keep="none"))
    return total


def pillow(source: Path, out: Path) -> int:
    import io

    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = 100_000_000
    total = 0
    with Image.open(source) as opened:
        image = ImageOps.exif_transpose(opened)
        image.load()
    alpha = "A" in image.getbands()
    image = image.convert("RGBA" if alpha else "RGB")
    for size in SIZES:
        if size.fit is Fit.CROP:
            w, h = min(size.width, image.width), min(size.height, image.height)
            variant = ImageOps.fit(image, (w, h), Image.Resampling.LANCZOS)
        else:
            variant = image.copy()
            variant.thumbnail((size.width, size.height), Image.Resampling.LANCZOS)
        for fmt, kwargs in (("AVIF", {"quality": defaults.AVIF_QUALITY, "speed": 9 - defaults.AVIF_EFFORT}),
                            ("WEBP", {"quality": defaults.WEBP_QUALITY, "method": defaults.WEBP_EFFORT}),
                            ("JPEG", {"quality": defaults.JPEG_QUALITY, "optimize": True, "progressive": True})):
            buf = io.BytesIO()
            (variant.convert("RGB") if fmt == "JPEG" else variant).save(buf, fmt, **kwargs)
            total += buf.tell()
        if alpha:
            buf = io.BytesIO()
            variant.save(buf, "PNG", compress_level=defaults.PNG_COMPRESSION)
            total += buf.tell()
    return total
