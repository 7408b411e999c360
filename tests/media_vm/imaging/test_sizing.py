"""The size rules as pure arithmetic: never enlarge, exact crops, box aspect for small originals."""

from __future__ import annotations

import itertools

import pytest

from media_vm.imaging.sizing import decode_box, output_dims, source_scale
from shared.sizes import SIZES, SIZES_BY_NAME, Fit


@pytest.mark.parametrize(
    ("size", "original", "expected"),
    [
        ("small", (4000, 3000), (640, 480)),
        ("detail", (3000, 4000), (900, 1200)),
        ("zoom", (1000, 800), (1000, 800)),  # smaller than the box: unchanged, never enlarged
        ("thumbnail", (4000, 3000), (300, 300)),
        ("header", (4000, 3000), (1920, 640)),
        ("thumbnail", (200, 150), (150, 150)),  # smaller: box aspect at the original's scale
        ("grid", (200, 150), (150, 150)),
        ("header", (2000, 500), (1500, 500)),
        ("header", (1800, 700), (1800, 600)),
        ("header", (100, 2000), (100, 33)),
        ("thumbnail", (300, 300), (300, 300)),
        ("thumbnail", (10000, 200), (200, 200)),
    ],
)
def test_output_dims(size, original, expected):
    assert output_dims(SIZES_BY_NAME[size], *original) == expected


@pytest.mark.parametrize(
    ("width", "height"),
    list(itertools.product([1, 7, 150, 299, 300, 641, 1919, 2000, 2561, 9000], repeat=2)),
)
def test_no_size_is_ever_larger_than_the_original_and_crops_keep_the_box_aspect(width, height):
    for size in SIZES:
        w, h = output_dims(size, width, height)
        assert 1 <= w <= width and 1 <= h <= height
        assert w <= size.width and h <= size.height
        if size.fit is Fit.CROP and (w, h) != (size.width, size.height):
            # a small original: the box's aspect within rounding (or a 1 px side)
            assert w == width or h == height
            assert abs(w / h - size.width / size.height) <= size.width / size.height * (1 / min(w, h)) + 1e-9
        if size.fit is Fit.INSIDE and (w, h) != (width, height):
            assert w == size.width or h == size.height


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ((4000, 3000), (2560, 1920)),  # zoom needs the most
        ((10000, 1000), (6400, 640)),  # the header needs 640 rows of a panorama
        ((1000, 10000), (1000, 10000)),  # narrower than the header: its crop needs full scale
        ((800, 600), (800, 600)),  # small: decoded at full size
    ],
)
def test_decode_box_is_the_largest_scale_any_size_needs(original, expected):
    assert decode_box(*original) == expected
    for size in SIZES:
        assert source_scale(size, *original) <= expected[0] / original[0] + 1e-9


def test_dimensions_must_be_positive():
    with pytest.raises(ValueError):
        output_dims(SIZES[0], 0, 10)
