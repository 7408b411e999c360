"""Faces and the salient region: what a crop must keep, found without any downloaded model.

- Faces: OpenCV's Haar cascade for frontal faces (``haarcascade_frontalface_default.xml``,
  shipped inside the ``opencv-python-headless`` wheel under ``cv2.data.haarcascades``), run
  on a greyscale copy of at most ``FACE_DETECTION_BOX`` px. It finds upright frontal faces
  of at least ~4% of the image side; profiles, tilted or tiny faces are missed. Textures
  (straw, foliage) fool it now and then, so a candidate is kept only when the eye cascade
  (``haarcascade_eye.xml``) finds at least one eye in the upper 60% of its box: on the
  astronaut photo the real face has two eyes at every scale tried (26-95 px), the one false
  face the corpus produced (in sample.jpg's straw) none. The cascade gives no probability,
  only how many overlapping windows agreed (``votes``); the reported ``confidence`` is
  ``votes / (votes + 10)``, a monotone squashing of that count (5 votes, the minimum
  accepted, give 0.33; 40 give 0.8), not a calibrated probability.
- Salient region: libvips' ``smartcrop(interesting="attention")`` (edges, skin tones and
  saturated colour, weighted towards the centre) with a window of half the image's width
  and height; the region is that window, its centre the attention point libvips reports.

Boxes are normalised to the upright image (0-1), so they apply at any scale.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyvips

from media_vm.imaging import defaults
from media_vm.imaging.colour_space import flatten_on_white

CASCADE = "haarcascade_frontalface_default.xml"
EYE_CASCADE = "haarcascade_eye.xml"
#: Face boxes narrower than this are upscaled to it before looking for eyes.
EYE_SEARCH_WIDTH = 80

_local = threading.local()


@dataclass(frozen=True)
class Box:
    """A rectangle in normalised coordinates (0-1) of the upright image."""

    x: float
    y: float
    w: float
    h: float

    def as_dict(self) -> dict[str, float]:
        return {"x": round(float(self.x), 4), "y": round(float(self.y), 4),
                "w": round(float(self.w), 4), "h": round(float(self.h), 4)}


@dataclass(frozen=True)
class Face:
    box: Box
    votes: int
    eyes: int

    @property
    def confidence(self) -> float:
        return round(self.votes / (self.votes + 10), 2)

    def as_object(self) -> dict[str, Any]:
        """The ``detected_objects`` entry for this face."""
        return {
            "label": "face",
            "box": self.box.as_dict(),
            "confidence": self.confidence,
            "votes": self.votes,
            "eyes": self.eyes,
            "source": "opencv-haar-frontalface",
        }


@dataclass(frozen=True)
class SalientRegion:
    box: Box
    centre: tuple[float, float]

    def as_object(self) -> dict[str, Any]:
        """The ``detected_objects`` entry for the salient region (it has no confidence)."""
        return {
            "label": "salient region",
            "box": self.box.as_dict(),
            "centre": {"x": round(float(self.centre[0]), 4), "y": round(float(self.centre[1]), 4)},
            "source": "libvips-attention",
        }


def _classifier(name: str) -> Any:
    # One per thread: OpenCV does not promise that detectMultiScale is thread-safe.
    cache = _local.__dict__.setdefault("classifiers", {})
    if name not in cache:
        import cv2

        path = Path(cv2.data.haarcascades) / name  # type: ignore[attr-defined]
        classifier = cv2.CascadeClassifier(str(path))
        if classifier.empty():
            raise RuntimeError(f"cannot load the OpenCV cascade {path}")
        cache[name] = classifier
    return cache[name]


def _eyes(grey: np.ndarray, x: int, y: int, w: int, h: int) -> int:
    """Eyes the eye cascade finds in the upper 60% of a face box."""
    import cv2

    region = grey[y : y + max(1, int(h * 0.6)), x : x + w]
    if w < EYE_SEARCH_WIDTH:
        factor = EYE_SEARCH_WIDTH / w
        region = cv2.resize(region, None, fx=factor, fy=factor, interpolation=cv2.INTER_LINEAR)
    found, _ = _classifier(EYE_CASCADE).detectMultiScale2(region, scaleFactor=1.1, minNeighbors=3, minSize=(10, 10))
    return len(found)


def grey_array(image: pyvips.Image, box: int) -> np.ndarray:
    """``image`` (8-bit sRGB, in memory) as a uint8 greyscale array of at most ``box`` px."""
    scale = min(1.0, box / max(image.width, image.height))
    grey = flatten_on_white(image).colourspace("b-w")[0]
    if scale < 1.0:
        grey = grey.resize(scale, kernel="linear")
    grey = grey.cast("uchar")
    # numpy() squeezes a 1-pixel side away; the callers need rows x columns
    return np.ascontiguousarray(np.asarray(grey.numpy()).reshape(grey.height, grey.width))


def detect_faces(image: pyvips.Image) -> list[Face]:
    """Frontal faces in ``image`` (confirmed by an eye), largest first."""
    grey = grey_array(image, defaults.FACE_DETECTION_BOX)
    height, width = grey.shape
    min_side = max(20, round(defaults.FACE_MIN_SIDE_FRACTION * min(width, height)))
    if min(width, height) < min_side:
        return []
    rects, votes = _classifier(CASCADE).detectMultiScale2(
        grey, scaleFactor=1.1, minNeighbors=defaults.FACE_MIN_NEIGHBOURS, minSize=(min_side, min_side)
    )
    faces = []
    for (x, y, w, h), n in zip(np.asarray(rects).reshape(-1, 4).tolist(), np.asarray(votes).reshape(-1).tolist(),
                               strict=True):
        eyes = _eyes(grey, x, y, w, h)
        if eyes:
            faces.append(Face(Box(x / width, y / height, w / width, h / height), int(n), eyes))
    return sorted(faces, key=lambda f: f.box.w * f.box.h, reverse=True)


def salient_region(image: pyvips.Image, *, box: int = 512) -> SalientRegion:
    """The attention window of half the width and height of ``image`` (see the module doc)."""
    scale = min(1.0, box / max(image.width, image.height))
    small = flatten_on_white(image)
    if scale < 1.0:
        small = small.resize(scale)
    width, height = small.width, small.height
    win_w, win_h = max(1, width // 2), max(1, height // 2)
    _, found = small.smartcrop(win_w, win_h, interesting="attention", attention_x=True, attention_y=True)
    ax, ay = int(found["attention_x"]), int(found["attention_y"])
    left = min(max(0, ax - win_w // 2), width - win_w)
    top = min(max(0, ay - win_h // 2), height - win_h)
    return SalientRegion(Box(left / width, top / height, win_w / width, win_h / height), (ax / width, ay / height))
