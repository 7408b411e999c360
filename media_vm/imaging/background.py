"""Logo background removal: flood the flat border colour away, keep enclosed holes.

The rule is deliberately simple and predictable, because a wrong cut-out of a brand mark
is worse than none:

1. The background is the colour of the image's border ring (median, in CIE Lab). If that
   ring is not near-uniform (a photo, a gradient), nothing is removed.
2. Pixels within ``BACKGROUND_MATCH_DELTA_E`` of it that are connected to the border
   (4-connected flood fill from outside the image) become transparent. Background-coloured
   areas enclosed by the shape (the counter of an "O") stay opaque.
3. The mask is feathered by a small Gaussian so the edge is not jagged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyvips

from media_vm.imaging import defaults
from media_vm.imaging.colour_space import flatten_on_white, has_real_alpha


@dataclass(frozen=True)
class BackgroundDecision:
    """Whether a background-removed set can be made, why, and the background colour (Lab)."""

    removable: bool
    reason: str
    lab: tuple[float, float, float] | None = None


def assess_background(image: pyvips.Image) -> BackgroundDecision:
    """Judge the border of an in-memory 8-bit sRGB ``image``."""
    ring = defaults.BACKGROUND_BORDER_PX
    if image.width <= 2 * ring or image.height <= 2 * ring:
        return BackgroundDecision(False, f"image too small ({image.width}x{image.height})")
    if has_real_alpha(image) and _border(image[image.bands - 1]).mean() < 8:
        return BackgroundDecision(True, "background already transparent")
    lab = flatten_on_white(image).colourspace("lab")
    border = _border(lab).astype(np.float64)
    colour = np.median(border, axis=0)
    spread = float(np.percentile(np.linalg.norm(border - colour, axis=1), 95))
    if spread > defaults.BACKGROUND_FLAT_DELTA_E:
        return BackgroundDecision(
            False,
            f"background not flat (border varies by Delta E {spread:.1f}, limit {defaults.BACKGROUND_FLAT_DELTA_E:g})",
        )
    lab_colour = (float(colour[0]), float(colour[1]), float(colour[2]))
    foreground = (_distance(lab, lab_colour) > defaults.BACKGROUND_MATCH_DELTA_E).avg() / 255
    if foreground < defaults.BACKGROUND_MIN_FOREGROUND:
        return BackgroundDecision(False, "image is a single flat colour")
    return BackgroundDecision(True, f"flat background removed (border Delta E {spread:.1f})", lab_colour)


def remove_background(image: pyvips.Image, decision: BackgroundDecision) -> pyvips.Image:
    """``image`` as sRGB + alpha with the border-connected background transparent.

    ``decision`` must come from :func:`assess_background` on the same image (at any scale).
    """
    if not decision.removable:
        raise ValueError(f"background is not removable: {decision.reason}")
    if decision.lab is None:  # already transparent: the image's own alpha is the cut-out
        return image
    rgb = flatten_on_white(image)
    distance = _distance(rgb.colourspace("lab"), decision.lab)
    candidate = (distance < defaults.BACKGROUND_MATCH_DELTA_E).cast("uchar")  # 255 = background-like
    # A 1 px background-like frame joins every border pixel into one region, so a single
    # flood from the corner reaches all background touching the edge, and nothing enclosed.
    framed = candidate.embed(1, 1, rgb.width + 2, rgb.height + 2, extend="background", background=[255])
    flooded = framed.draw_flood([128], 0, 0, equal=True).crop(1, 1, rgb.width, rgb.height)
    alpha = (flooded != 128).cast("uchar")  # 255 = keep
    alpha = alpha.gaussblur(defaults.BACKGROUND_FEATHER_SIGMA, precision="float").cast("uchar")
    if image.hasalpha():
        alpha = (alpha * image[image.bands - 1] / 255).cast("uchar")
    return rgb.bandjoin(alpha).copy(interpretation="srgb")


def _distance(lab: pyvips.Image, colour: tuple[float, float, float]) -> pyvips.Image:
    """Per-pixel CIE76 Delta E between a Lab image and one Lab colour."""
    return lab.dE76(lab.new_from_image(list(colour)))


def _border(image: pyvips.Image) -> np.ndarray:
    """The outer ring (``BACKGROUND_BORDER_PX`` wide) of ``image`` as an (N, bands) array."""
    ring = defaults.BACKGROUND_BORDER_PX
    w, h = image.width, image.height
    strips = [
        image.crop(0, 0, w, ring),
        image.crop(0, h - ring, w, ring),
        image.crop(0, ring, ring, h - 2 * ring),
        image.crop(w - ring, ring, ring, h - 2 * ring),
    ]
    return np.concatenate([s.numpy().reshape(-1, image.bands) for s in strips], axis=0)
