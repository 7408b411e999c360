"""A technical quality score (0-100) from four measured parts: sharpness, exposure, noise, resolution.

- sharpness: variance of the Laplacian of the lightness, measured on the analysis
  downscale (``ANALYSIS_BOX``). Log-mapped: variance <= 10 scores 0 (blurred or flat),
  >= 1000 scores 100 (crisp detail).
- exposure: mean CIE L* near the middle scores 100, falling off by 2.5 points per unit
  beyond 20 units from 50, minus the percentage of clipped pixels (L* < 2 or > 98).
- noise: the standard deviation of Gaussian noise in the lightness (0-255) at the analysis
  scale, from the response to Immerkaer's 3x3 mask [[1,-2,1],[-2,4,-2],[1,-2,1]] (which
  cancels smooth shading): its median absolute value / (0.6745 * 6), the median so that
  edges (a minority of pixels) do not count as noise. It is the noise a viewer sees at
  screen size; 12 MP sensor grain mostly averages away in the downscale. sigma <= 1 scores 100, >= 8 scores 0, linear.
- resolution: longest side of the original against ``QUALITY_REFERENCE_SIDE`` (linear).

Score = 0.4 sharpness + 0.2 exposure + 0.15 noise + 0.25 resolution, rounded.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyvips

from media_vm.imaging import defaults
from media_vm.imaging.colour_space import flatten_on_white

WEIGHTS: dict[str, float] = {"sharpness": 0.4, "exposure": 0.2, "noise": 0.15, "resolution": 0.25}

_LAPLACIAN = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
_NOISE_MASK = [[1, -2, 1], [-2, 4, -2], [1, -2, 1]]
NOISE_CLEAN_SIGMA = 1.0
NOISE_WORST_SIGMA = 8.0


def laplacian_variance(image: pyvips.Image) -> float:
    """Variance of the 3x3 Laplacian of the lightness of ``image`` (higher = sharper)."""
    lightness = flatten_on_white(image).colourspace("b-w")[0].cast("float")
    if lightness.width < 3 or lightness.height < 3:  # no 3x3 neighbourhood: nothing to measure
        return 0.0
    edges = lightness.conv(pyvips.Image.new_from_list(_LAPLACIAN), precision="float")
    return float(edges.deviate() ** 2)


def noise_sigma(image: pyvips.Image) -> float:
    """Estimated standard deviation of the noise in the lightness (0-255) of ``image``."""
    lightness = flatten_on_white(image).colourspace("b-w")[0].cast("float")
    if lightness.width < 3 or lightness.height < 3:
        return 0.0
    response = lightness.conv(pyvips.Image.new_from_list(_NOISE_MASK), precision="float").abs()
    residual = np.asarray(response.numpy(), dtype=np.float64)[1:-1, 1:-1]
    # The mask's response to Gaussian noise of sigma s has sigma 6 s; its median absolute
    # value is 0.6745 of that. The median ignores the minority of pixels on edges.
    return float(np.median(residual) / (0.6745 * 6))


def quality(image: pyvips.Image, *, original_long_side: int) -> tuple[int, dict[str, Any]]:
    """(score 0-100, parts) for an in-memory 8-bit sRGB ``image`` (the analysis downscale)."""
    variance = laplacian_variance(image)
    sharpness = _clamp(100 * (math.log10(max(variance, 1e-6)) - 1) / 2)

    lightness = flatten_on_white(image).colourspace("lab")[0]
    mean_l = float(lightness.avg())
    clipped = float(((lightness < 2) | (lightness > 98)).avg() / 255)
    exposure = _clamp(100 - 2.5 * max(0.0, abs(mean_l - 50) - 20) - 100 * clipped)

    sigma = noise_sigma(image)
    noise = _clamp(100 * (NOISE_WORST_SIGMA - sigma) / (NOISE_WORST_SIGMA - NOISE_CLEAN_SIGMA))

    resolution = _clamp(100 * original_long_side / defaults.QUALITY_REFERENCE_SIDE)

    parts = {
        "sharpness": round(sharpness, 1),
        "exposure": round(exposure, 1),
        "noise": round(noise, 1),
        "resolution": round(resolution, 1),
    }
    score = round(sum(WEIGHTS[name] * value for name, value in parts.items()))
    return int(score), {
        **parts,
        "weights": dict(WEIGHTS),
        "measured": {
            "laplacian_variance": round(variance, 2),
            "mean_lightness": round(mean_l, 2),
            "clipped_fraction": round(clipped, 4),
            "noise_sigma": round(sigma, 2),
            "long_side": original_long_side,
        },
    }


def _clamp(value: float) -> float:
    return max(0.0, min(100.0, value))
