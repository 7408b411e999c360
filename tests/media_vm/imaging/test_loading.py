"""Opening untrusted files: pixel limits from the header, corrupt data, colour normalisation."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import pyvips

from media_vm.exceptions import ImageProcessingError, ImageRejected
from media_vm.imaging import analyse_file, make_variants, open_image, probe
from media_vm.imaging.loading import decode
from tests.helpers.images import (
    animated_gif,
    colour_variants,
    oriented_jpeg,
    photo_jpeg,
    photo_like,
    pixel_bomb_png,
    read,
    region_mean,
    truncated_jpeg,
)


def test_pixel_bomb_is_rejected_from_the_header_without_decoding(tmp_path):
    bomb = pixel_bomb_png(tmp_path / "bomb.png")
    assert bomb.stat().st_size < 100_000  # a tiny file ...
    assert read(bomb).width == 20000  # ... that really declares 20000x20000
    # cut after 2 KB of pixel data: a decode would fail as truncated ("libpng read error"), so
    # the limit's message shows the image was judged from its header, before any decoding
    cut = tmp_path / "cut.png"
    cut.write_bytes(bomb.read_bytes()[:33 + 8 + 2048])
    for source in (bomb, cut):
        with pytest.raises(ImageRejected) as caught:
            make_variants(source, tmp_path / "out", stem="b", data_type="product")
        assert "image is 20000x20000 = 400.0 MP, over the 100.0 MP limit" in str(caught.value)
        assert not (tmp_path / "out").exists()
    with pytest.raises(ImageRejected, match="over the 100.0 MP limit"):
        analyse_file(bomb, data_type="product")


def test_max_pixels_is_configurable_and_counts_upright_pixels(tmp_path):
    photo = photo_jpeg(tmp_path / "p.jpg", 400, 300)
    assert probe(photo, max_pixels=120_000).width == 400
    with pytest.raises(ImageRejected, match=r"400x300 = 0.1 MP, over the 0.1 MP limit"):
        probe(photo, max_pixels=119_999)
    rotated = oriented_jpeg(tmp_path / "r.jpg", 6, width=160, height=100)
    info = probe(rotated)
    assert (info.width, info.height, info.orientation) == (160, 100, 6)


def test_truncated_jpeg_is_rejected_and_nothing_is_written(tmp_path):
    broken = truncated_jpeg(tmp_path / "cut.jpg")
    assert probe(broken).format == "jpeg"  # the header alone looks fine ...
    with pytest.raises(ImageRejected, match="cannot decode jpeg data") as caught:
        make_variants(broken, tmp_path / "out", stem="t", data_type="product")
    assert isinstance(caught.value.__cause__, pyvips.Error)  # libvips' detail is kept
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    with pytest.raises(ImageRejected):
        analyse_file(broken, data_type="product")


@pytest.mark.parametrize("fit", [None, (100, 100)])
def test_truncation_is_caught_with_and_without_shrink_on_load(tmp_path, fit):
    """libvips' thumbnail_source ignores its own fail_on; the loader option must carry it."""
    info = probe(truncated_jpeg(tmp_path / "cut.jpg", keep=0.6))
    with pytest.raises(ImageRejected):
        decode(info, fit=fit)


def test_empty_and_garbage_files_are_rejected(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "noise.png").write_bytes(np.random.default_rng(0).bytes(5000))
    (tmp_path / "head.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    for name in ("empty.jpg", "noise.png", "head.png"):
        with pytest.raises(ImageRejected):
            open_image(tmp_path / name)


def test_a_missing_file_is_a_processing_error_not_a_rejection(tmp_path):
    with pytest.raises(ImageProcessingError):
        probe(tmp_path / "nope.jpg")


def test_option_syntax_in_a_file_name_is_not_interpreted(tmp_path):
    """new_from_file would read "[shrink=8]" as a load option; files are opened as sources."""
    odd = tmp_path / "photo.jpg[shrink=8]"
    shutil.copy(photo_jpeg(tmp_path / "p.jpg", 320, 240), odd)
    image = open_image(odd)
    assert (image.width, image.height) == (320, 240)


@pytest.mark.parametrize(
    ("name", "bands"),
    [
        ("cmyk.jpg", 3),
        ("rgb16.png", 3),
        ("grey16.png", 3),
        ("grey.jpg", 3),
        ("grey_profile.jpg", 3),
        ("1bit.png", 3),
        ("palette.png", 3),
        ("grey_alpha.png", 4),
    ],
)
def test_every_colour_model_ends_as_8_bit_srgb(tmp_path, name, bands):
    path = colour_variants(tmp_path)[name]
    image = open_image(path)
    assert (image.interpretation, image.format, image.bands) == ("srgb", "uchar", bands)
    assert not image.get_typeof("icc-profile-data")


def test_colours_survive_cmyk_and_16_bit(tmp_path):
    reference = photo_like(160, 120).numpy().astype(float)
    paths = colour_variants(tmp_path)
    for name, tolerance in (("rgb16.png", 1.0), ("cmyk.jpg", 12.0), ("palette.png", 6.0)):
        decoded = open_image(paths[name]).numpy().astype(float)
        assert np.abs(decoded - reference).mean() < tolerance, name


def test_opaque_alpha_is_dropped_real_alpha_kept(tmp_path):
    gif = animated_gif(tmp_path / "a.gif")
    assert read(gif).bands == 4  # GIF always decodes with an alpha band ...
    assert open_image(gif).bands == 3  # ... which is dropped when nothing is transparent
    rgba = photo_like(40, 30).bandjoin(255)
    rgba = rgba.draw_rect([0, 0, 0, 0], 0, 0, 5, 5, fill=True)
    rgba.pngsave(str(tmp_path / "t.png"))
    assert open_image(tmp_path / "t.png").bands == 4


def test_animated_gif_uses_the_first_frame(tmp_path):
    gif = animated_gif(tmp_path / "a.gif", width=120, height=90, frames=3)
    info = probe(gif)
    assert (info.width, info.height, info.pages) == (120, 90, 3)
    image = open_image(gif)
    assert (image.width, image.height) == (120, 90)
    red, green, blue = region_mean(image, 0, 0, 120, 90)
    assert red > 200 and green < 60 and blue < 60


def test_open_image_applies_exif_orientation(tmp_path):
    image = open_image(oriented_jpeg(tmp_path / "o.jpg", 8))
    assert (image.width, image.height) == (160, 100)
    red, green, blue = region_mean(image, 5, 5, 20, 12)  # red block, top-left when upright
    assert red > 180 and green < 80 and blue < 80
    assert not image.get_typeof("orientation")
