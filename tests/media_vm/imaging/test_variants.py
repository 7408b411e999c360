"""make_variants end to end on generated images: every file decoded back and measured."""

from __future__ import annotations

import os

import numpy as np
import pytest
import pyvips

from media_vm.exceptions import ImageProcessingError
from media_vm.imaging import loading, make_variants, variant_file_name
from shared.sizes import SIZES, SIZES_BY_NAME, Fit
from tests.helpers.images import (
    CORNER_COLOURS,
    oriented_jpeg,
    photo_jpeg,
    read,
    region_mean,
    rgba_png,
    upright_orientation_picture,
)

LOADERS = {"avif": "heifload", "webp": "webpload", "jpeg": "jpegload", "png": "pngload"}
METADATA = ("exif-data", "orientation", "xmp-data", "iptc-data", "icc-profile-data")


@pytest.fixture(scope="module")
def photo_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photo")
    source = photo_jpeg(folder / "in.jpg", 1600, 1200)
    return source, make_variants(source, folder / "out", stem="m1", data_type="product")


def test_one_file_per_size_and_format_named_by_the_contract(photo_set):
    _, variants = photo_set
    assert {(v.size, v.format, v.bg) for v in variants} == {
        (s.name, f, "original") for s in SIZES for f in ("avif", "webp", "jpeg")
    }
    for v in variants:
        assert v.path.name == variant_file_name("m1", v.size, v.format)
        assert v.path.name == f"m1_{v.size}.{'jpg' if v.format == 'jpeg' else v.format}"
        assert v.path.stat().st_size == v.bytes
    assert sorted(p.name for p in variants[0].path.parent.iterdir()) == sorted(v.path.name for v in variants)


def test_every_file_is_what_it_claims_once_decoded(photo_set):
    _, variants = photo_set
    for v in variants:
        image = read(v.path)
        assert image.get("vips-loader") == LOADERS[v.format], v.path.name
        if v.format == "avif":
            assert image.get("heif-compression") == "av1"
        assert (image.width, image.height) == (v.width, v.height)
        assert (image.interpretation, image.format, image.bands) == ("srgb", "uchar", 3)
        image.avg()  # the whole file decodes


def test_dimensions_fit_the_boxes_and_crops_are_exact(photo_set):
    _, variants = photo_set
    for v in variants:
        size = SIZES_BY_NAME[v.size]
        if size.fit is Fit.CROP:
            # the header box (1920 wide) is wider than the original: 3:1 at full width
            expected = (1600, 533) if v.size == "header" else (size.width, size.height)
            assert (v.width, v.height) == expected
        else:
            assert v.width <= size.width and v.height <= size.height
            assert v.width == size.width or v.height == size.height or (v.width, v.height) == (1600, 1200)
            assert abs(v.width / v.height - 1600 / 1200) < 0.01
    zoom = {v.format: (v.width, v.height) for v in variants if v.size == "zoom"}
    assert set(zoom.values()) == {(1600, 1200)}  # smaller than 2560: not enlarged


def test_no_metadata_is_left(tmp_path):
    source = photo_jpeg(tmp_path / "exif.jpg", 400, 300)
    image = read(source)
    image = image.copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 1)
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Artist", "someone")
    image.jpegsave(str(source))  # keeps EXIF and the ICC-less sRGB
    assert "exif-data" in read(source).get_fields()
    for v in make_variants(source, tmp_path / "out", stem="e", data_type="product"):
        fields = read(v.path).get_fields()
        assert not [f for f in fields if f in METADATA or f.startswith("exif-")], (v.path.name, fields)


def test_small_original_is_never_enlarged(tmp_path):
    source = photo_jpeg(tmp_path / "small.jpg", 200, 150)
    dims = {
        (v.size, v.format): (v.width, v.height)
        for v in make_variants(source, tmp_path / "out", stem="s", data_type="product")
    }
    for fmt in ("avif", "webp", "jpeg"):
        assert dims["thumbnail", fmt] == (150, 150)
        assert dims["grid", fmt] == (150, 150)
        assert dims["header", fmt] == (200, 67)
        for name in ("small", "detail", "zoom"):
            assert dims[name, fmt] == (200, 150)


def test_transparency_gets_png_and_keeps_alpha_jpeg_is_flattened_on_white(tmp_path):
    source = rgba_png(tmp_path / "a.png", 200, 150)
    variants = make_variants(source, tmp_path / "out", stem="a", data_type="product")
    assert {v.format for v in variants} == {"avif", "webp", "jpeg", "png"}
    for v in variants:
        image = read(v.path)
        if v.format == "jpeg":
            assert image.bands == 3
            if v.size == "zoom":  # the transparent bottom-left corner became white
                assert region_mean(image, 0, 140, 10, 10).min() > 245
        else:
            assert image.bands == 4, v.path.name
            if v.size == "zoom":
                assert region_mean(image, 0, 140, 10, 10)[3] < 3  # transparent
                assert region_mean(image, 95, 70, 10, 10)[3] > 250  # the opaque disc
                assert 100 < region_mean(image, 0, 0, 200, 20)[3] < 160  # the half-transparent band


def test_logos_get_png_even_when_opaque(tmp_path):
    source = photo_jpeg(tmp_path / "l.jpg", 300, 200)
    formats = {v.format for v in make_variants(source, tmp_path / "out", stem="l", data_type="logo")}
    assert formats == {"avif", "webp", "jpeg", "png"}


def _best_window_error(variant: np.ndarray, reference: np.ndarray) -> float:
    """Smallest mean absolute difference of ``variant`` against any same-size window of ``reference``."""
    vh, vw = variant.shape[:2]
    rh, rw = reference.shape[:2]
    best = float("inf")
    for dy in range(rh - vh + 1):
        for dx in range(rw - vw + 1):
            window = reference[dy : dy + vh, dx : dx + vw]
            best = min(best, float(np.abs(window.astype(float) - variant[:, :, :3]).mean()))
    return best


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_comes_out_upright(tmp_path, orientation):
    upright = upright_orientation_picture(160, 100)
    source = oriented_jpeg(tmp_path / f"o{orientation}.jpg", orientation)
    variants = make_variants(source, tmp_path / "out", stem="o", data_type="product")
    assert len(variants) == 18
    for v in variants:
        image = read(v.path)
        assert image.width <= 160 and image.height <= 100, v.path.name
        error = _best_window_error(image.numpy(), upright)
        assert error < 6, (v.path.name, error)
        if v.size == "zoom":  # full picture: the red block is top-left
            assert np.allclose(region_mean(image, 4, 4, 30, 17), CORNER_COLOURS["top_left"], atol=25)
    # the comparison can tell orientations apart: the mirror image is far from upright
    mirrored = read(next(v.path for v in variants if v.size == "zoom")).numpy()[:, ::-1]
    assert _best_window_error(mirrored, upright) > 20


def test_one_decode_per_call(tmp_path, monkeypatch):
    calls = []
    original = pyvips.Image.thumbnail_source

    def counting(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(loading.pyvips.Image, "thumbnail_source", staticmethod(counting))
    make_variants(photo_jpeg(tmp_path / "p.jpg", 900, 700), tmp_path / "out", stem="p", data_type="logo")
    assert len(calls) == 1


def test_a_failed_write_leaves_no_file_at_any_final_name_and_no_temp(tmp_path, monkeypatch):
    source = photo_jpeg(tmp_path / "p.jpg", 640, 480)
    out = tmp_path / "out"
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src, dst):
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(ImageProcessingError, match="No space left on device") as caught:
        make_variants(source, out, stem="p", data_type="product")
    assert isinstance(caught.value.__cause__, OSError)
    assert list(out.iterdir()) == []  # the 4 finished files were undone, the temp removed


def test_a_failure_while_writing_the_temp_file_removes_it(tmp_path, monkeypatch):
    def failing_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    out = tmp_path / "out"
    with pytest.raises(ImageProcessingError, match="Input/output error"):
        make_variants(photo_jpeg(tmp_path / "p.jpg", 320, 240), out, stem="p", data_type="product")
    assert list(out.iterdir()) == []


def test_running_again_replaces_the_files_in_place(tmp_path):
    source = photo_jpeg(tmp_path / "p.jpg", 320, 240)
    first = make_variants(source, tmp_path / "out", stem="p", data_type="product")
    second = make_variants(source, tmp_path / "out", stem="p", data_type="product")
    assert [v.path for v in first] == [v.path for v in second]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(v.path.name for v in second)


@pytest.mark.parametrize("stem", ["", "../x", "a/b", ".hidden", "sp ace"])
def test_stem_must_be_a_plain_name(tmp_path, stem):
    with pytest.raises(ValueError):
        make_variants(photo_jpeg(tmp_path / "p.jpg", 64, 64), tmp_path, stem=stem, data_type="product")
