"""Style, medium and kind of subject from measured features, each with its confidence.

No model: every label follows from a rule over numbers the analysis measured, and the rule
and the numbers are reported with it (``basis``/``evidence``). Confidences follow one
scheme: 0.4 at a class boundary, rising with the distance from it, capped at 0.8 for a
single feature (a threshold is never certain) and at 0.95 where independent evidence
agrees (a camera's EXIF for a photograph, OCR'd words for a document).

Kinds of subject (``subject_matter["label"]``), first rule that holds:

1. ``text document``: OCR read at least ``DOCUMENT_MIN_WORDS`` words, or (without Tesseract)
   text-like regions cover at least ``DOCUMENT_MIN_COVERAGE`` of the image; and the image is
   not photographic (flatness above ``PHOTOGRAPHIC_MAX``: a page is mostly paper).
2. ``logo``: a flat graphic (flatness >= ``FLAT_GRAPHIC_MIN``) on a flat, separable
   background whose foreground covers at most ``LOGO_MAX_FOREGROUND`` of the image.
3. ``photo``: photographic flatness (<= ``PHOTOGRAPHIC_MAX``), or a camera in the EXIF.
4. ``illustration``: everything else (flat or mixed graphics without a separable background).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Flatness (see :func:`.dominant_colours.flatness`) at or above which an image is a flat graphic,
#: and at or below which it is photographic; in between it is "mixed".
FLAT_GRAPHIC_MIN = 0.8
PHOTOGRAPHIC_MAX = 0.45

DOCUMENT_MIN_WORDS = 8
DOCUMENT_MIN_COVERAGE = 0.02
LOGO_MAX_FOREGROUND = 0.7


@dataclass(frozen=True)
class Features:
    """What the classification is decided on."""

    flatness: float
    camera: str | None
    faces: int
    ocr_words: int
    ocr_ran: bool
    text_coverage: float
    background_separable: bool
    foreground_fraction: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "flatness": round(self.flatness, 3),
            "camera": self.camera,
            "faces": self.faces,
            "ocr_words": self.ocr_words,
            "text_coverage": round(self.text_coverage, 4),
            "background_separable": self.background_separable,
            "foreground_fraction": None if self.foreground_fraction is None else round(self.foreground_fraction, 3),
        }


def _margin_confidence(margin: float, cap: float = 0.8) -> float:
    """0.4 at the boundary (margin 0), rising linearly to ``cap`` at margin 1."""
    return round(min(cap, 0.4 + 0.4 * max(0.0, min(1.0, margin))), 2)


def style(features: Features) -> dict[str, Any]:
    """``style_classification``: photographic, flat graphic or mixed, from flatness."""
    flat = features.flatness
    if flat >= FLAT_GRAPHIC_MIN:
        label, confidence = "flat graphic", _margin_confidence((flat - FLAT_GRAPHIC_MIN) / (1 - FLAT_GRAPHIC_MIN))
    elif flat <= PHOTOGRAPHIC_MAX:
        label, confidence = "photographic", _margin_confidence((PHOTOGRAPHIC_MAX - flat) / PHOTOGRAPHIC_MAX)
    else:
        label, confidence = "mixed", 0.3
    return {
        "label": label,
        "confidence": confidence,
        "basis": f"flatness {flat:.2f} (flat graphic >= {FLAT_GRAPHIC_MIN}, photographic <= {PHOTOGRAPHIC_MAX})",
    }


def medium(features: Features, style_label: str, style_confidence: float) -> tuple[str | None, float | None, str]:
    """(``medium_detected``, its confidence, the basis). ``None`` when the features say nothing."""
    if features.camera:
        return f"photograph ({features.camera})", 0.95, "camera make and model in the EXIF"
    if style_label == "photographic":
        return "photograph", style_confidence, "photographic style, no camera EXIF"
    if style_label == "flat graphic":
        return "digital graphic", style_confidence, "flat colour fills"
    return None, None, "mixed style: neither clearly photographic nor flat"


def subject(features: Features) -> dict[str, Any]:
    """``subject_matter``: the kind of picture (see the module doc) with confidence and evidence."""
    flat = features.flatness
    not_photographic = flat > PHOTOGRAPHIC_MAX
    label: str
    if features.ocr_ran and features.ocr_words >= DOCUMENT_MIN_WORDS and not_photographic:
        label = "text document"
        confidence = _margin_confidence(features.ocr_words / (4 * DOCUMENT_MIN_WORDS), cap=0.95)
    elif not features.ocr_ran and features.text_coverage >= DOCUMENT_MIN_COVERAGE and not_photographic:
        label = "text document"
        confidence = _margin_confidence(features.text_coverage / (5 * DOCUMENT_MIN_COVERAGE))
    elif (
        flat >= FLAT_GRAPHIC_MIN
        and features.background_separable
        and features.foreground_fraction is not None
        and features.foreground_fraction <= LOGO_MAX_FOREGROUND
    ):
        label = "logo"
        confidence = _margin_confidence((flat - FLAT_GRAPHIC_MIN) / (1 - FLAT_GRAPHIC_MIN))
    elif flat <= PHOTOGRAPHIC_MAX or features.camera:
        label = "photo"
        confidence = 0.95 if features.camera else _margin_confidence((PHOTOGRAPHIC_MAX - flat) / PHOTOGRAPHIC_MAX)
    else:
        label = "illustration"
        confidence = _margin_confidence(min(flat - PHOTOGRAPHIC_MAX, 0.3) / 0.3, cap=0.6)
    return {
        "label": label,
        "confidence": confidence,
        "people": features.faces,
        "has_text": features.ocr_words > 0,
        "evidence": features.as_dict(),
    }
