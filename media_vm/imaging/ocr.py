"""Text in the image: Tesseract (Debian's ``tesseract-ocr``) where the binary is installed.

Two stages, so that a photo without text costs ~5 ms instead of a Tesseract run:

1. :func:`text_regions` finds text-like areas on the greyscale analysis copy with OpenCV:
   a morphological gradient (strokes have strong edges on both sides), Otsu's threshold,
   a horizontal closing that joins letters into words and lines, then boxes at least twice
   as wide as tall, 6-120 px high and at least 35% filled with edge pixels.
2. Only where such regions exist, the band of the image that holds them is upscaled so a line is
   ~``OCR_LINE_HEIGHT_PX`` tall and given to ``tesseract ... tsv`` as a greyscale PNG. Words
   under ``OCR_MIN_CONFIDENCE`` or without a letter or digit are dropped.

``detected_text`` is ``None`` when Tesseract is missing or failed (never a guess), ``""``
when nothing was found, and the text (lines joined by newlines) otherwise;
``detected_text_status`` says which.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvips

from media_vm.imaging import defaults
from media_vm.imaging.faces import Box

NOT_INSTALLED = "tesseract not installed"


@dataclass(frozen=True)
class OcrResult:
    text: str | None
    status: str
    words: int = 0
    mean_confidence: float | None = None
    area: Box | None = None  #: where the text-like regions are (normalised)
    coverage: float = 0.0  #: fraction of the image covered by text-like regions


def find_tesseract(command: str = "tesseract") -> str | None:
    """The path of the Tesseract binary (``command`` is a name on PATH or a path), or None."""
    return shutil.which(command)


def text_regions(grey: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(x, y, w, h) pixel boxes of text-like lines in a uint8 greyscale array (see module doc)."""
    import cv2

    gradient = cv2.morphologyEx(grey, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    _, strokes = cv2.threshold(gradient, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    joined = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
    contours, _ = cv2.findContours(joined, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if not 6 <= h <= 120 or w < 2 * h:
            continue
        if cv2.countNonZero(strokes[y : y + h, x : x + w]) / (w * h) < 0.35:
            continue
        boxes.append((x, y, w, h))
    return boxes


def read_text(grey: np.ndarray, *, tesseract: str | None, unavailable: str = NOT_INSTALLED) -> OcrResult:
    """OCR of a uint8 greyscale array (the analysis copy); ``tesseract`` is the binary's path.

    Without Tesseract the text-like regions are still measured (``coverage``, ``area``), the
    text is ``None`` and the status is ``unavailable``.
    """
    height, width = grey.shape
    boxes = text_regions(grey)
    if not boxes:
        if tesseract is None:
            return OcrResult(None, unavailable)
        return OcrResult("", "no text-like regions (OCR not run)")
    coverage = sum(w * h for _, _, w, h in boxes) / (width * height)
    line = float(np.median([h for _, _, _, h in boxes]))
    # Full width (a short word at the end of a line may not pass as a region on its own),
    # the height of the regions plus two lines either side.
    pad = round(2 * line)
    x0, x1 = 0, width
    y0 = max(0, min(y for _, y, _, _ in boxes) - pad)
    y1 = min(height, max(y + h for _, y, _, h in boxes) + pad)
    area = Box(x0 / width, y0 / height, (x1 - x0) / width, (y1 - y0) / height)
    if tesseract is None:
        return OcrResult(None, unavailable, area=area, coverage=coverage)
    scale = min(3.0, max(1.0, defaults.OCR_LINE_HEIGHT_PX / line), 3000 / max(x1 - x0, y1 - y0))
    crop = pyvips.Image.new_from_array(np.ascontiguousarray(grey[y0:y1, x0:x1]))
    if scale > 1.0:
        crop = crop.resize(scale, kernel="lanczos3")
    try:
        tsv = _run_tesseract(tesseract, crop.cast("uchar"))
    except subprocess.TimeoutExpired:
        return OcrResult(None, f"tesseract timed out after {defaults.OCR_TIMEOUT_SECONDS:g} s", area=area,
                         coverage=coverage)
    except (OSError, subprocess.CalledProcessError) as e:
        detail = (getattr(e, "stderr", "") or str(e)).strip().splitlines()
        return OcrResult(None, f"tesseract failed: {detail[-1] if detail else e}", area=area, coverage=coverage)
    text, confidences = _parse_tsv(tsv)
    if not confidences:
        return OcrResult("", "no text found", area=area, coverage=coverage)
    return OcrResult(text, "ok", len(confidences), round(float(np.mean(confidences)), 1), area, coverage)


def _run_tesseract(tesseract: str, image: pyvips.Image) -> str:
    with tempfile.TemporaryDirectory(prefix="ocr-") as tmp:
        png = Path(tmp) / "text.png"
        image.pngsave(str(png), compression=1)
        # OMP_THREAD_LIMIT=1: Tesseract's OpenMP threads make it slower on a busy 2-core VM.
        result = subprocess.run(
            [tesseract, str(png), "stdout", "-l", "eng", "--psm", "3", "tsv"],
            capture_output=True, text=True, timeout=defaults.OCR_TIMEOUT_SECONDS, check=True,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    return result.stdout


def _parse_tsv(tsv: str) -> tuple[str, list[float]]:
    """(text with one line per Tesseract line, confidences of the kept words)."""
    lines: dict[tuple[str, str, str, str], list[str]] = {}
    confidences = []
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) != 12 or not cells[11].strip():
            continue
        try:
            confidence = float(cells[10])
        except ValueError:
            continue
        word = cells[11].strip()
        if confidence < defaults.OCR_MIN_CONFIDENCE or not any(ch.isalnum() for ch in word):
            continue
        lines.setdefault((cells[1], cells[2], cells[3], cells[4]), []).append(word)
        confidences.append(confidence)
    return "\n".join(" ".join(words) for words in lines.values()), confidences
