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
DEFAULT_SIZE = "detail"

#: The sizes of an artwork's image (``DataType.ARTWORK``), smallest first: ``icon`` for
#: avatars and lists, ``thumbnail`` (the contract's) for grids, ``display`` for the detail page.
ICON = Size("icon", 128, 128, Fit.CROP)
DISPLAY = Size("display", 1200, 1200, Fit.INSIDE)
ARTWORK_SIZES: tuple[Size, ...] = (ICON, SIZES[0], DISPLAY)
#: Sizes that carry the owner's watermark (``watermark`` of the pending list) in every format.
#: An artwork has no unwatermarked size larger than ``grid``, so the nearest-size fallback can
#: never lead a public request to one.
WATERMARKED_SIZES: frozenset[str] = frozenset({"display"})

#: Every size name either service knows, smallest box first (ties: contract sizes first).
ALL_SIZES: tuple[Size, ...] = tuple(
    sorted({s.name: s for s in (*SIZES, *ARTWORK_SIZES)}.values(), key=lambda s: s.width * s.height)
)
SIZES_BY_NAME: dict[str, Size] = {s.name: s for s in ALL_SIZES}


def sizes_for(data_type: str) -> tuple[Size, ...]:
    """The sizes the media VM makes for an image of ``data_type`` (a ``DataType`` value),
    smallest first: :data:`ARTWORK_SIZES` for artworks, the contract's six otherwise."""
    return ARTWORK_SIZES if str(getattr(data_type, "value", data_type)) == "artwork" else SIZES


def default_size_for(data_type: str) -> str:
    """The size an image of ``data_type``'s smart URL names: ``display`` for an artwork,
    :data:`DEFAULT_SIZE` (``detail``) otherwise."""
    return DISPLAY.name if sizes_for(data_type) is ARTWORK_SIZES else DEFAULT_SIZE


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
    """The available size closest in area to ``wanted`` (ties go to the larger one); only
    sizes the image has are candidates, so an artwork (``ARTWORK_SIZES``) never falls back to
    a size it was not made in. None when ``available`` is empty."""
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
