"""Variant sizes, their boxes and how each is fitted, plus output formats."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Fit(str, Enum):
    INSIDE = "inside"  # scale down to fit the box, keep the aspect ratio
    CROP = "crop"  # fill the box exactly, cropping around the subject


@dataclass(frozen=True)
class Size:
    name: str
    width: int
    height: int
    fit: Fit


#: The six sizes of the contract, smallest first.
SIZES: tuple[Size, ...] = (
    Size("thumbnail", 300, 300, Fit.CROP),
    Size("grid", 500, 500, Fit.CROP),
    Size("small", 640, 640, Fit.INSIDE),
    Size("detail", 1200, 1200, Fit.INSIDE),
    Size("header", 1920, 640, Fit.CROP),
    Size("zoom", 2560, 2560, Fit.INSIDE),
)
SIZES_BY_NAME: dict[str, Size] = {s.name: s for s in SIZES}
DEFAULT_SIZE = "detail"


class ImageFormat(str, Enum):
    AVIF = "avif"
    WEBP = "webp"
    JPEG = "jpeg"
    PNG = "png"

    @property
    def mime_type(self) -> str:
        return f"image/{self.value}"

    @property
    def extension(self) -> str:
        return "jpg" if self is ImageFormat.JPEG else self.value


#: Order of preference when negotiating from ``Accept``.
NEGOTIATION_ORDER: tuple[ImageFormat, ...] = (ImageFormat.AVIF, ImageFormat.WEBP, ImageFormat.JPEG)

#: Background variants: ``original`` for every image, ``removed`` for logos.
BACKGROUNDS: tuple[str, ...] = ("original", "removed")


def nearest_size(wanted: str, available: set[str] | list[str]) -> str | None:
    """The available size closest in area to ``wanted`` (ties go to the larger one)."""
    if not available:
        return None
    if wanted in available:
        return wanted
    target = SIZES_BY_NAME[wanted]
    area = target.width * target.height

    def distance(name: str) -> tuple[int, int]:
        s = SIZES_BY_NAME[name]
        return (abs(s.width * s.height - area), -(s.width * s.height))

    return min((n for n in available if n in SIZES_BY_NAME), key=distance, default=None)
