"""A technical quality score (0-100) from three measured parts: sharpness, exposure, resolution.

- sharpness: variance of the Laplacian of the lightness, measured on the analysis
  downscale (``ANALYSIS_BOX``). Log-mapped: variance <= 10 scores 0 (blurred or flat),
  >= 1000 scores 100 (crisp detail).
- exposure: mean CIE L* near the middle scores 100, falling off by 2.5 points per unit
  beyond 20 units from 50, minus the percentage of clipped pixels (L* < 2 or > 98).
- resolution: longest side of the original against ``QUALITY_REFERENCE_SIDE`` (linear).

Score = 0.5 sharpness + 0.25 exposure + 0.25 resolution, rounded.
"""

from __future__ import annotations

import math
from typing import Any

import pyvips

from media_vm.imaging import defaults
from media_vm.imaging.colour import flatten_on_white

WEIGHTS: dict[str, float] = {"sharpness": 0.5, "exposure": 0.25, "resolution": 0.25}

_LAPLACIAN = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]


def laplacian_variance(image: pyvips.Image) -> float:
    """Variance of the 3x3 Laplacian of the lightness of ``image`` (higher = sharper)."""
    lightness = flatten_on_white(image).colourspace("b-w")[0].cast("float")
    edges = lightness.conv(pyvips.Image.new_from_list(_LAPLACIAN), precision="float")
    return float(edges.deviate() ** 2)


def quality(image: pyvips.Image, *, original_long_side: int) -> tuple[int, dict[str, Any]]:
    """(score 0-100, parts) for an in-memory 8-bit sRGB ``image`` (the analysis downscale)."""
    variance = laplacian_variance(image)
    sharpness = _clamp(100 * (math.log10(max(variance, 1e-6)) - 1) / 2)

    lightness = flatten_on_white(image).colourspace("lab")[0]
    mean_l = float(lightness.avg())
    clipped = float(((lightness < 2) | (lightness > 98)).avg() / 255)
    exposure = _clamp(100 - 2.5 * max(0.0, abs(mean_l - 50) - 20) - 100 * clipped)

    resolution = _clamp(100 * original_long_side / defaults.QUALITY_REFERENCE_SIDE)

    parts = {"sharpness": round(sharpness, 1), "exposure": round(exposure, 1), "resolution": round(resolution, 1)}
    score = round(sum(WEIGHTS[name] * value for name, value in parts.items()))
    return int(score), {
        **parts,
        "weights": dict(WEIGHTS),
        "measured": {
            "laplacian_variance": round(variance, 2),
            "mean_lightness": round(mean_l, 2),
            "clipped_fraction": round(clipped, 4),
            "long_side": original_long_side,
        },
    }


def _clamp(value: float) -> float:
    return max(0.0, min(100.0, value))
