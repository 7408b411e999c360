"""The placeholder a frontend shows while an image loads: a ThumbHash and one dominant colour.

ThumbHash (Evan Wallace, https://github.com/evanw/thumbhash, MIT) packs the low frequencies of
an image (its mean colour, up to 7 x 7 DCT terms of luminance, 3 x 3 of two chroma channels and,
where the image has real transparency, 5 x 5 of alpha) and its aspect ratio into about 25 bytes.
Browsers decode it with the reference JavaScript (``thumbHashToDataURL``). It is encoded here by
the ``thash`` package (a maintained Python port, byte-identical to the reference, with its alpha
fix) from a downscale of the analysis copy.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pyvips
import thash

from media_vm.imaging import defaults
from media_vm.imaging.colour_space import has_real_alpha
from media_vm.imaging.resizing import resize_exact
from media_vm.imaging.sizing import output_dims
from shared.sizes import Fit, Size


def rgba_pixels(image: pyvips.Image, box: int = defaults.PLACEHOLDER_BOX) -> np.ndarray:
    """``image`` (decoded, upright, 8-bit sRGB, grey or colour, with or without alpha) shrunk to fit
    ``box`` x ``box`` (never enlarged) as an H x W x 4 uint8 RGBA array; alpha is 255 where the
    image has none (or only an opaque one)."""
    width, height = output_dims(Size("placeholder", box, box, Fit.INSIDE), image.width, image.height)
    width, height = min(width, image.width), min(height, image.height)
    small = resize_exact(image, width, height)
    alpha = small[small.bands - 1] if has_real_alpha(image) else None
    colour = small.extract_band(0, n=small.bands - 1) if small.hasalpha() else small
    if colour.bands == 1:
        colour = colour.bandjoin([colour, colour])
    if alpha is None:
        alpha = colour[0].new_from_image(255)
    rgba = colour.bandjoin(alpha).cast("uchar")
    return np.asarray(rgba.numpy(), dtype=np.uint8).reshape(height, width, 4)


def thumbhash(image: pyvips.Image) -> bytes:
    """The ThumbHash of ``image`` (see :func:`rgba_pixels` for what it accepts)."""
    rgba = rgba_pixels(image)
    height, width = rgba.shape[:2]
    return bytes(thash.rgba_to_thumb_hash(width, height, rgba.reshape(-1).tolist()))


def placeholder(image: pyvips.Image, dominant_hex: str | None) -> dict[str, Any]:
    """``{"thumbhash": base64 (standard alphabet, padded) of the ThumbHash, "dominant_color":
    "#rrggbb"}`` for the analysis copy ``image``. ``dominant_hex`` is the largest dominant-colour
    cluster (``dominant_colors[0]``, visible pixels only); without one (nothing visible) the
    ThumbHash's own average colour is used."""
    hashed = thumbhash(image)
    if dominant_hex is None:
        average = thash.thumb_hash_to_average_rgba(list(hashed)) or (0.0, 0.0, 0.0, 0.0)
        dominant_hex = "#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in average[:3]))
    return {"thumbhash": base64.b64encode(hashed).decode("ascii"), "dominant_color": dominant_hex}


def decode_thumbhash(encoded: str, *, base_size: int = 32) -> np.ndarray:
    """A base64 ThumbHash rendered back to pixels (H x W x 4 uint8 RGBA, longest side
    ``base_size``), as a browser would show it. Raises ``ValueError`` for bad base64."""
    width, height, rgba = thash.thumb_hash_to_rgba(list(base64.b64decode(encoded, validate=True)),
                                                   base_size=base_size)
    return np.frombuffer(rgba, dtype=np.uint8).reshape(height, width, 4)
