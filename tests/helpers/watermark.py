"""Finding the artwork watermark in a decoded variant: where it is, and what it says (Tesseract)."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest
import pyvips

from media_vm.imaging.ocr import find_tesseract


def require_tesseract() -> str:
    """The Tesseract binary; skipped outside CI when it is missing, a failure under CI (which
    installs ``tesseract-ocr``, as ``make test`` does)."""
    found = find_tesseract()
    if found is None:
        reason = "tesseract not installed (apt-get install tesseract-ocr; make test does it)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, and CI is set: CI installs it", pytrace=False)
        pytest.skip(reason)
    return found


def pixels(image: pyvips.Image) -> np.ndarray:
    """An image flattened on black to 3 bands of floats (height x width x 3)."""
    if image.hasalpha():
        image = image.flatten(background=[0, 0, 0])
    return np.asarray(image.cast("uchar").numpy(), dtype=np.float32)[..., :3]


def corner_and_rest(marked: pyvips.Image, plain: pyvips.Image, *, fraction: float = 0.3) -> tuple[float, float]:
    """Mean absolute difference (0-255) of two same-sized images in their bottom-right corner
    (``fraction`` of each side) and in the rest of the picture."""
    assert (marked.width, marked.height) == (plain.width, plain.height)
    diff = np.abs(pixels(marked) - pixels(plain)).mean(axis=2)
    h, w = diff.shape
    top, left = int(h * (1 - fraction)), int(w * (1 - fraction))
    corner = diff[top:, left:]
    rest = np.concatenate([diff[:top].ravel(), diff[top:, :left].ravel()])
    return float(corner.mean()), float(rest.mean())


def read_mark(marked: pyvips.Image, plain: pyvips.Image) -> str:
    """The text Tesseract reads (one line, ``--psm 7``) where ``marked`` differs clearly from ``plain``
    in its bottom-right corner,
    the same picture without the mark: that box, made grey, with every unchanged pixel set to
    black (so only the white letters and their dark halo remain), upscaled 2x and inverted
    (dark letters on white, as Tesseract reads best)."""
    tesseract = require_tesseract()
    marked_px, plain_px = pixels(marked), pixels(plain)
    # lossy encoders (AVIF most) move pixels all over the picture by a few levels: only a
    # clear change in the bottom-right corner counts
    changed = np.abs(marked_px - plain_px).max(axis=2) > 24
    h, w = changed.shape
    changed[: int(h * 0.6)] = False
    changed[:, : int(w * 0.3)] = False
    assert changed.any(), "no mark at all"
    rows, cols = np.nonzero(changed)
    pad = 6
    top, bottom = max(0, rows.min() - pad), min(changed.shape[0], rows.max() + pad + 1)
    left, right = max(0, cols.min() - pad), min(changed.shape[1], cols.max() + pad + 1)
    grey = marked_px[top:bottom, left:right].mean(axis=2)
    grey[~changed[top:bottom, left:right]] = 0
    image = pyvips.Image.new_from_array(grey.astype(np.uint8)).resize(2, kernel="lanczos3").invert()
    png = bytes(image.cast("uchar").pngsave_buffer())
    out = subprocess.run([tesseract, "stdin", "stdout", "--psm", "7"], input=png, capture_output=True, timeout=60,
                         check=True)
    return out.stdout.decode("utf-8", "replace").strip()
