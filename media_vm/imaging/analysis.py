"""analyse_file: a measured, model-free description of an image.

Everything here is computed from pixels and header, nothing is guessed, and nothing leaves
the machine. The file is decoded once, shrunk on load to ``ANALYSIS_BOX``; every measure
works on that copy or on smaller ones cut from it:

- colours: k-means in CIE Lab on a ``COLOUR_SAMPLE_BOX`` px sample (:mod:`.colours`);
  ``brand_colors`` the same over the pixels left once the background is cut away (the
  mask of :mod:`.background`, as the ``bg=removed`` variants use);
- quality: sharpness, exposure, noise, resolution (:mod:`.quality`);
- faces (Haar cascade, <= ``FACE_DETECTION_BOX`` px grey) and the salient region (libvips
  attention) in ``detected_objects`` (:mod:`.faces`); they steer the crops of the variants;
- text: Tesseract where installed (:mod:`.ocr`);
- style, medium and kind of subject with confidences (:mod:`.classify`);
- a perceptual hash and an embedding for duplicates and similarity (:mod:`.fingerprint`);
- camera facts from the EXIF block (:mod:`.exif`), GPS included (the main API keeps it only
  for owners who ask: ``keep_location``);
- the loading placeholder: a ThumbHash of a <= ``PLACEHOLDER_BOX`` px downscale and the
  largest dominant colour (:mod:`.placeholder`).

Run :func:`analyse` where the embedding is needed (the worker stores it apart), or
:func:`analyse_file` for the analysis fields alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyvips

from media_vm.imaging import classify, defaults
from media_vm.imaging.background import BackgroundDecision, assess_background, remove_background
from media_vm.imaging.colour_space import flatten_on_white, has_real_alpha
from media_vm.imaging.dominant_colours import ColourCluster, dominant_colours, flatness, sample_pixels
from media_vm.imaging.exif import read_exif
from media_vm.imaging.faces import detect_faces, grey_array, salient_region
from media_vm.imaging.fingerprint import EMBEDDING_VERSION, Fingerprint, fingerprint
from media_vm.imaging.loading import decode, probe
from media_vm.imaging.ocr import NOT_INSTALLED, find_tesseract, read_text
from media_vm.imaging.placeholder import placeholder
from media_vm.imaging.quality import quality
from media_vm.imaging.resizing import resize_exact
from media_vm.imaging.sizing import output_dims
from shared.data_types import DataType
from shared.sizes import Fit, Size

#: Bumped when a measure changes meaning, so stored analyses can be told apart.
ANALYSER_VERSION = "local-3"


@dataclass(frozen=True)
class Analysis:
    """The analysis fields, the fingerprint (kept apart from the fields), the file's SHA-256,
    and the decoded analysis copy (for a provider that needs the picture)."""

    fields: dict[str, Any]
    fingerprint: Fingerprint
    sha256: str
    image: pyvips.Image

    def preview_jpeg(self, quality: int = 85) -> bytes:
        """The analysis copy (<= ``ANALYSIS_BOX`` px, upright sRGB) as a JPEG, for remote providers."""
        return bytes(flatten_on_white(self.image).jpegsave_buffer(Q=quality, keep="none"))


def analyse(
    source: Path,
    *,
    data_type: DataType | str,
    max_pixels: int = defaults.DEFAULT_MAX_PIXELS,
    tesseract_cmd: str | None = "tesseract",
) -> Analysis:
    """Analyse ``source`` (see the module doc). ``tesseract_cmd`` is the OCR binary's name or
    path (``None``: OCR off). Raises :class:`ImageRejected` like :func:`.make_variants`."""
    data_type = DataType(data_type)
    info = probe(Path(source), max_pixels=max_pixels)
    image = decode(info, fit=(defaults.ANALYSIS_BOX, defaults.ANALYSIS_BOX))

    box = defaults.COLOUR_SAMPLE_BOX
    sample_dims = output_dims(Size("sample", box, box, Fit.INSIDE), image.width, image.height)
    rgb, lab = sample_pixels(resize_exact(image, *sample_dims))
    clusters = dominant_colours(rgb, lab)
    flat = flatness(lab, clusters)
    score, parts = quality(image, original_long_side=max(info.width, info.height))

    decision = assess_background(image)
    brand, brand_basis, foreground = _brand_colours(image, decision, sample_dims, clusters)

    faces = detect_faces(image)
    salient = salient_region(image)
    tesseract = find_tesseract(tesseract_cmd) if tesseract_cmd else None
    ocr = read_text(
        grey_array(image, defaults.ANALYSIS_BOX),
        tesseract=tesseract,
        unavailable=NOT_INSTALLED if tesseract_cmd else "ocr disabled",
    )

    features = classify.Features(
        flatness=flat,
        camera=info.camera,
        faces=len(faces),
        ocr_words=ocr.words,
        ocr_ran=tesseract is not None,
        text_coverage=ocr.coverage,
        background_separable=decision.removable,
        foreground_fraction=foreground,
    )
    style = classify.style(features)
    medium, medium_confidence, medium_basis = classify.medium(features, style["label"], style["confidence"])
    subject = classify.subject(features)
    confidences = [style["confidence"], subject["confidence"]] + ([medium_confidence] if medium_confidence else [])

    objects: list[dict[str, Any]] = [face.as_object() for face in faces]
    objects.append(salient.as_object())
    if ocr.words and ocr.area is not None:
        objects.append({
            "label": "text", "box": ocr.area.as_dict(), "confidence": round((ocr.mean_confidence or 0) / 100, 2),
            "words": ocr.words, "source": "tesseract",
        })

    if data_type is DataType.LOGO:
        removed, reason = decision.removable, decision.reason
    else:
        removed, reason = False, "only logos get a background-removed set"

    prints = fingerprint(image, lab)
    fields: dict[str, Any] = {
        "dominant_colors": [c.as_dict() for c in clusters],
        "brand_colors": [c.as_dict() for c in brand] if data_type is DataType.LOGO else None,
        "brand_colors_basis": brand_basis if data_type is DataType.LOGO else "only logos get brand colours",
        "detected_objects": objects,
        "detected_text": ocr.text,
        "detected_text_status": ocr.status,
        "detected_text_confidence": ocr.mean_confidence,
        "style_classification": style,
        "medium_detected": medium,
        "medium_confidence": medium_confidence,
        "medium_basis": medium_basis,
        "subject_matter": subject,
        "quality_score": score,
        "quality_parts": parts,
        "mood_keywords": mood_keywords(lab),
        "confidence_score": round(float(np.mean(confidences)), 2),
        "width": info.width,
        "height": info.height,
        "has_alpha": has_real_alpha(image),
        "format": info.format,
        "background_removed": removed,
        "background_reason": reason,
        "phash": prints.phash,
        "exif": read_exif(info.exif),
        "placeholder": placeholder(image, clusters[0].hex if clusters else None),
        "embedding_version": EMBEDDING_VERSION,
        "analyser": ANALYSER_VERSION,
    }
    return Analysis(fields, prints, _sha256(info.path), image)


def measure_focus(
    source: Path, *, max_pixels: int = defaults.DEFAULT_MAX_PIXELS
) -> tuple[float, float, float, float] | None:
    """What the subject-aware crops keep (:func:`.cropping.crop_focus`), measured without the
    rest of the analysis: the faces and the salient region of the same ``ANALYSIS_BOX``
    shrink-on-load copy :func:`analyse` looks at, so the result is the one the full analysis
    gives and the thumbnail, made before it, is cut like the other sizes. Raises
    :class:`ImageRejected` like :func:`analyse`."""
    from media_vm.imaging.cropping import crop_focus

    info = probe(Path(source), max_pixels=max_pixels)
    image = decode(info, fit=(defaults.ANALYSIS_BOX, defaults.ANALYSIS_BOX))
    objects = [face.as_object() for face in detect_faces(image)]
    objects.append(salient_region(image).as_object())
    return crop_focus({"detected_objects": objects})


def analyse_file(
    source: Path,
    *,
    data_type: DataType | str,
    max_pixels: int = defaults.DEFAULT_MAX_PIXELS,
    tesseract_cmd: str | None = "tesseract",
) -> dict[str, Any]:
    """Analyse ``source``; keys are ``shared.payloads.ANALYSIS_FIELDS`` plus
    ``shared.payloads.ANALYSIS_LOCAL_FIELDS``. Raises :class:`ImageRejected` like :func:`.make_variants`."""
    return analyse(source, data_type=data_type, max_pixels=max_pixels, tesseract_cmd=tesseract_cmd).fields


def _brand_colours(
    image: pyvips.Image, decision: BackgroundDecision, sample_dims: tuple[int, int], clusters: list[ColourCluster]
) -> tuple[list[ColourCluster], str, float | None]:
    """(palette without the background, how it was made, fraction of the image that is foreground)."""
    if not decision.removable:
        return clusters, f"whole image: {decision.reason}", None
    cut = remove_background(image, decision)
    small = resize_exact(cut, *sample_dims)
    foreground = float((np.asarray(small[small.bands - 1].numpy()) >= 128).mean())
    rgb, lab = sample_pixels(small)
    return dominant_colours(rgb, lab), "the logo without its background", foreground


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
