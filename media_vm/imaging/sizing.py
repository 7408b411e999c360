"""Pure size arithmetic: how big each variant is, and how far the decoder may shrink.

No pyvips here: integers in, integers out, so the rules (never enlarge, crops exact when
the original is big enough, box aspect at the original's scale when it is not) are easy
to read and to test.
"""

from __future__ import annotations

import math

from shared.sizes import ALL_SIZES, SIZE_NAMES, Fit, Size, sizes_for


def size_order(data_type: str) -> dict[str, int]:
    """``{size name: rank}`` to list sizes in: the data type's own (``shared.sizes.sizes_for``,
    smallest first: the contract's six keep their order, header before zoom), then any other
    known size (``ALL_SIZES``), so a size the data type no longer makes still sorts, then the
    preset outputs (``SIZE_NAMES``)."""
    names = [s.name for s in sizes_for(data_type)]
    names += [s.name for s in ALL_SIZES if s.name not in names]
    names += [name for name in SIZE_NAMES if name not in names]
    return {name: rank for rank, name in enumerate(names)}


def output_dims(size: Size, width: int, height: int) -> tuple[int, int]:
    """Dimensions of the ``size`` variant of an upright ``width`` x ``height`` original.

    INSIDE: scaled down to fit the box, aspect kept, never enlarged.
    CROP: exactly the box when the original covers it; otherwise the largest rectangle of
    the box's aspect ratio inside the original, at the original's scale (a 200x150 original
    gives a 150x150 thumbnail).
    """
    _check_dims(width, height)
    if size.fit is Fit.INSIDE:
        scale = min(1.0, size.width / width, size.height / height)
        return max(1, round(width * scale)), max(1, round(height * scale))
    if width >= size.width and height >= size.height:
        return size.width, size.height
    if width * size.height >= height * size.width:  # wider than the box: full height
        return max(1, min(width, round(height * size.width / size.height))), height
    return width, max(1, min(height, round(width * size.height / size.width)))


def cover_scale(target: tuple[int, int], width: int, height: int) -> float:
    """Scale at which a ``width`` x ``height`` image just covers ``target`` (both sides >= it)."""
    _check_dims(width, height)
    return max(target[0] / width, target[1] / height)


def source_scale(size: Size, width: int, height: int) -> float:
    """Scale of the original that the ``size`` variant needs before any crop (<= 1)."""
    return min(1.0, cover_scale(output_dims(size, width, height), width, height))


def decode_box(width: int, height: int, sizes: tuple[Size, ...] = ALL_SIZES) -> tuple[int, int]:
    """The box to shrink-on-load into so that every size in ``sizes`` can be cut without enlarging.

    It is the original scaled by the largest scale any size needs (capped at 1), rounded up.
    """
    scale = max(source_scale(size, width, height) for size in sizes)
    if scale >= 1.0:
        return width, height
    return min(width, math.ceil(width * scale)), min(height, math.ceil(height * scale))


def _check_dims(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise ValueError(f"dimensions must be positive, got {width}x{height}")


def crop_window(
    covered: tuple[int, int], target: tuple[int, int], focus: tuple[float, float, float, float]
) -> tuple[int, int]:
    """Top-left corner of the ``target`` window in a ``covered`` image that best keeps ``focus``.

    ``focus`` is (x, y, w, h) normalised to the image (0-1). The window is centred on the
    focus, then moved as little as needed to contain all of it where it fits, and clamped
    inside the image.
    """
    (cw, ch), (tw, th) = covered, target
    if tw > cw or th > ch:
        raise ValueError(f"window {tw}x{th} larger than the image {cw}x{ch}")
    fx, fy, fw, fh = focus

    def axis(length: int, window: int, start: float, size: float) -> int:
        lo, hi = start * length, (start + size) * length
        offset = (lo + hi) / 2 - window / 2
        if hi - lo <= window:  # the whole focus fits: keep it inside
            offset = min(max(offset, hi - window), lo)
        return int(round(min(max(offset, 0.0), length - window)))

    return axis(cw, tw, fx, fw), axis(ch, th, fy, fh)
