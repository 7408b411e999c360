"""analyse_file: a measured, model-free description of an image.

Everything here is computed from pixels and header, nothing is guessed: fields that need a
vision model (objects, text, subject) are empty or ``None`` until a provider is configured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from media_vm.imaging import defaults
from media_vm.imaging.background import assess_background
from media_vm.imaging.colour import has_real_alpha
from media_vm.imaging.colours import dominant_colours, flatness, sample_pixels
from media_vm.imaging.loading import decode, probe
from media_vm.imaging.quality import quality
from media_vm.imaging.resizing import resize_exact
from media_vm.imaging.sizing import output_dims
from shared.data_types import DataType
from shared.sizes import Fit, Size

#: Flatness (see :func:`.colours.flatness`) at or above which an image is a flat graphic,
#: and at or below which it is photographic; in between it is "mixed".
FLAT_GRAPHIC_MIN = 0.8
PHOTOGRAPHIC_MAX = 0.45


def analyse_file(
    source: Path, *, data_type: DataType | str, max_pixels: int = defaults.DEFAULT_MAX_PIXELS
) -> dict[str, Any]:
    """Analyse ``source``; keys are ``shared.payloads.ANALYSIS_FIELDS`` plus the extras below.

    Extras: ``width``/``height`` (upright original), ``has_alpha`` (real transparency),
    ``format`` (sniffed), ``quality_parts`` (see :mod:`.quality`), ``detected_text_status``,
    ``background_removed`` and ``background_reason`` (logos only get a removed set).
    Raises :class:`ImageRejected` like :func:`.make_variants`.
    """
    data_type = DataType(data_type)
    info = probe(Path(source), max_pixels=max_pixels)
    image = decode(info, fit=(defaults.ANALYSIS_BOX, defaults.ANALYSIS_BOX))

    box = defaults.COLOUR_SAMPLE_BOX
    sample = resize_exact(image, *output_dims(Size("sample", box, box, Fit.INSIDE), image.width, image.height))
    rgb, lab = sample_pixels(sample)
    clusters = dominant_colours(rgb, lab)
    flat = flatness(lab, clusters)
    style, confidence = _style(flat)
    score, parts = quality(image, original_long_side=max(info.width, info.height))

    if data_type is DataType.LOGO:
        decision = assess_background(image)
        removed, reason = decision.removable, decision.reason
    else:
        removed, reason = False, "only logos get a background-removed set"

    return {
        "dominant_colors": [c.as_dict() for c in clusters],
        "detected_objects": [],
        "detected_text": None,
        "style_classification": style,
        "medium_detected": _medium(info.camera, style),
        "subject_matter": None,
        "quality_score": score,
        "mood_keywords": mood_keywords(lab),
        "confidence_score": confidence,
        "width": info.width,
        "height": info.height,
        "has_alpha": has_real_alpha(image),
        "format": info.format,
        "quality_parts": parts,
        "detected_text_status": "ocr not configured",
        "background_removed": removed,
        "background_reason": reason,
    }


def mood_keywords(lab: np.ndarray) -> list[str]:
    """Mood words from the Lab pixels, by these rules (each may add one word):

    - brightness, mean L*: > 65 "bright", < 35 "dark";
    - saturation, mean chroma C* = sqrt(a*^2 + b*^2): > 35 "vibrant", < 12 "muted";
    - contrast, standard deviation of L*: > 25 "high contrast", < 10 "soft";
    - temperature, mean of (b* + a*/2) over pixels with C* > 12: > 10 "warm", < -10 "cool";
    - "neutral" when no rule fired.
    """
    if len(lab) == 0:
        return []
    lightness, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    chroma = np.hypot(a, b)
    words = []
    if lightness.mean() > 65:
        words.append("bright")
    elif lightness.mean() < 35:
        words.append("dark")
    if chroma.mean() > 35:
        words.append("vibrant")
    elif chroma.mean() < 12:
        words.append("muted")
    if lightness.std() > 25:
        words.append("high contrast")
    elif lightness.std() < 10:
        words.append("soft")
    coloured = chroma > 12
    if coloured.any():
        warmth = float((b[coloured] + a[coloured] / 2).mean())
        if warmth > 10:
            words.append("warm")
        elif warmth < -10:
            words.append("cool")
    return words or ["neutral"]


def _style(flat: float) -> tuple[str, float]:
    """(style, confidence): confidence grows with the distance from the nearest class boundary.

    Capped at 0.8: a threshold on one measured feature is never certain.
    """
    if flat >= FLAT_GRAPHIC_MIN:
        margin = (flat - FLAT_GRAPHIC_MIN) / (1 - FLAT_GRAPHIC_MIN)
        return "flat graphic", round(0.4 + 0.4 * margin, 2)
    if flat <= PHOTOGRAPHIC_MAX:
        margin = (PHOTOGRAPHIC_MAX - flat) / PHOTOGRAPHIC_MAX
        return "photographic", round(0.4 + 0.4 * margin, 2)
    return "mixed", 0.3


def _medium(camera: str | None, style: str) -> str | None:
    if camera:
        return f"photograph ({camera})"
    if style == "flat graphic":
        return "digital graphic"
    return None
