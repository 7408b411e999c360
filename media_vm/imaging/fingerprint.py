"""A perceptual hash and a visual embedding of an image, for duplicates and similarity search.

- ``phash``: the 64-bit DCT hash (as ImageHash's ``phash``): the luminance resized to 32x32,
  its 2-D DCT-II, the 8x8 lowest frequencies, one bit per coefficient above their median.
  16 hex digits; near copies differ in a few bits (Hamming distance), unrelated images ~32.
- ``embedding`` (version ``EMBEDDING_VERSION``, ``EMBEDDING_DIMS`` floats, unit length): a
  hand-made descriptor, no learned model. Three blocks, each L2-normalised, concatenated
  with equal weight and normalised again, so the cosine similarity is a plain dot product:

  1. colour: a 4x4x4 histogram of CIE Lab (L 0-100, a and b -80..80) over the 64 px sample,
     square-rooted (Hellinger) so one big area does not drown the rest (64 values);
  2. structure: gradient-orientation histograms (8 bins over 0-180 degrees, weighted by the
     gradient magnitude, square-rooted) in each quarter of a 128 px greyscale copy (32 values);
  3. layout: the 63 lowest-frequency DCT coefficients of the 32x32 luminance (the 8x8 block
     without the DC term), which the brightness layout of the picture decides (63 values).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyvips

from media_vm.imaging.colour_space import flatten_on_white

EMBEDDING_VERSION = 1
EMBEDDING_DIMS = 64 + 32 + 63


@dataclass(frozen=True)
class Fingerprint:
    phash: str
    embedding: tuple[float, ...]

    def embedding_list(self) -> list[float]:
        return [round(v, 6) for v in self.embedding]


@functools.cache
def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    matrix = np.cos(np.pi * (2 * x + 1) * k / (2 * n)) * np.sqrt(2 / n)
    matrix[0] /= np.sqrt(2)
    return matrix


def _grey(image: pyvips.Image, width: int, height: int) -> np.ndarray:
    grey = flatten_on_white(image).colourspace("b-w")[0]
    grey = grey.resize(width / grey.width, vscale=height / grey.height, kernel="lanczos3")
    array = np.asarray(grey.numpy(), dtype=np.float64)
    return np.pad(array, ((0, max(0, height - array.shape[0])), (0, max(0, width - array.shape[1]))), mode="edge")[
        :height, :width
    ]


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 1e-12 else vector


def fingerprint(image: pyvips.Image, lab_sample: np.ndarray) -> Fingerprint:
    """Fingerprint of an in-memory 8-bit sRGB ``image``; ``lab_sample`` is its (N, 3) Lab sample."""
    dct = _dct_matrix(32)
    coefficients = dct @ _grey(image, 32, 32) @ dct.T
    low = coefficients[:8, :8].reshape(-1)
    bits = low > np.median(low)
    phash = f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"

    if len(lab_sample):
        clipped = np.clip(lab_sample, [0, -80, -80], [100, 80, 80])  # sRGB's extremes reach a* ~98
        histogram, _ = np.histogramdd(clipped, bins=(4, 4, 4), range=((0, 100), (-80, 80), (-80, 80)))
        colour = _unit(np.sqrt(histogram.reshape(-1) / histogram.sum()))
    else:
        colour = np.zeros(64)

    long_side = max(image.width, image.height)
    grey = _grey(image, max(2, round(128 * image.width / long_side)), max(2, round(128 * image.height / long_side)))
    gy, gx = np.gradient(grey)
    magnitude = np.hypot(gx, gy)
    orientation = np.minimum((np.mod(np.arctan2(gy, gx), np.pi) / np.pi * 8).astype(int), 7)
    h, w = grey.shape
    quarters = [
        np.bincount(orientation[rows, cols].ravel(), weights=magnitude[rows, cols].ravel(), minlength=8)
        for rows in (slice(0, h // 2), slice(h // 2, h))
        for cols in (slice(0, w // 2), slice(w // 2, w))
    ]
    structure = _unit(np.sqrt(np.concatenate(quarters)))

    layout = _unit(low[1:])
    embedding = _unit(np.concatenate([colour, structure, layout]))
    return Fingerprint(phash, tuple(float(v) for v in embedding))
