"""Logo background removal: border-connected flat background goes, enclosed holes stay."""

from __future__ import annotations

import numpy as np
import pytest
import pyvips

from media_vm.imaging import analyse_file, make_variants, open_image
from media_vm.imaging.background import assess_background, remove_background
from tests.helpers.images import logo, photo_jpeg, read, solid_png


def _alpha_at(image: pyvips.Image, point: tuple[int, int], radius: int = 3) -> float:
    x, y = point
    return float(image.crop(x - radius, y - radius, 2 * radius + 1, 2 * radius + 1)[3].avg())


@pytest.mark.parametrize("name", ["logo.png", "logo.jpg"])
def test_logo_gets_a_removed_set_with_real_alpha(tmp_path, name):
    geometry = logo(tmp_path / name, 400, 240, quality=85)
    variants = make_variants(tmp_path / name, tmp_path / "out", stem="lg", data_type="logo")
    removed = [v for v in variants if v.bg == "removed"]
    assert {(v.size, v.format) for v in removed} == {
        (s, f) for s in ("thumbnail", "grid", "small", "detail", "header", "zoom") for f in ("avif", "webp", "png")
    }
    for v in removed:
        assert v.path.name == f"lg_{v.size}_nobg.{v.format}"
        image = read(v.path)
        assert image.bands == 4, v.path.name
        assert image[3].min() == 0  # something is transparent in every size

    zoom = read(next(v.path for v in removed if v.size == "zoom" and v.format == "png"))
    assert (zoom.width, zoom.height) == (400, 240)
    assert _alpha_at(zoom, geometry.corner, radius=2) == 0  # border background: gone
    assert _alpha_at(zoom, geometry.cup_inside) == 0  # inside the U, open to the border: gone
    assert _alpha_at(zoom, geometry.ring) == 255  # the shapes stay
    assert _alpha_at(zoom, geometry.cup) == 255
    assert _alpha_at(zoom, geometry.ring_hole) == 255  # the enclosed hole is not background
    # the cut-out's edge is soft: some alpha between 0 and 255 exists, but only along edges
    alpha = zoom[3].numpy()
    partial = (alpha > 0) & (alpha < 255)
    assert 0 < partial.mean() < 0.05
    # lossy formats of the removed set agree at the points that matter
    for fmt in ("webp", "avif"):
        lossy = read(next(v.path for v in removed if v.size == "zoom" and v.format == fmt))
        assert _alpha_at(lossy, geometry.corner, radius=2) < 8
        assert _alpha_at(lossy, geometry.ring_hole) > 245


def test_photo_background_is_not_flat_so_nothing_is_removed(tmp_path):
    source = photo_jpeg(tmp_path / "p.jpg", 400, 300)
    variants = make_variants(source, tmp_path / "out", stem="p", data_type="logo")
    assert {v.bg for v in variants} == {"original"}
    analysis = analyse_file(source, data_type="logo")
    assert analysis["background_removed"] is False
    assert "not flat" in analysis["background_reason"]


def test_analysis_says_when_the_background_is_removable(tmp_path):
    logo(tmp_path / "l.png")
    analysis = analyse_file(tmp_path / "l.png", data_type="logo")
    assert analysis["background_removed"] is True
    assert analysis["background_reason"]
    other = analyse_file(tmp_path / "l.png", data_type="product")
    assert other["background_removed"] is False  # only logos get a removed set


def test_a_single_flat_colour_is_not_a_logo_on_a_background(tmp_path):
    decision = assess_background(open_image(solid_png(tmp_path / "s.png", (10, 200, 30))))
    assert not decision.removable
    assert "flat colour" in decision.reason
    with pytest.raises(ValueError):
        remove_background(open_image(tmp_path / "s.png"), decision)


def test_removal_is_pure(tmp_path):
    logo(tmp_path / "l.png")
    image = open_image(tmp_path / "l.png")
    before = image.numpy().copy()
    out = remove_background(image, assess_background(image))
    assert out.bands == 4 and image.bands == 3
    assert np.array_equal(image.numpy(), before)
