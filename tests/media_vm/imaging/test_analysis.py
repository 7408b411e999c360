"""analyse_file: real measurements on real (generated) images."""

from __future__ import annotations

import pytest
import pyvips

from media_vm.exceptions import ImageRejected
from media_vm.imaging import analyse_file
from shared.payloads import ANALYSIS_FIELDS
from tests.helpers.images import logo, photo_jpeg, pixel_bomb_png, read, solid_png

EXTRAS = {
    "width",
    "height",
    "has_alpha",
    "format",
    "quality_parts",
    "detected_text_status",
    "background_removed",
    "background_reason",
}


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    return photo_jpeg(tmp_path_factory.mktemp("analysis") / "photo.jpg", 1200, 900)


def test_keys_and_types(photo):
    result = analyse_file(photo, data_type="product")
    assert set(result) == set(ANALYSIS_FIELDS) | EXTRAS
    assert (result["width"], result["height"], result["format"], result["has_alpha"]) == (1200, 900, "jpeg", False)
    assert isinstance(result["quality_score"], int) and 0 <= result["quality_score"] <= 100
    assert isinstance(result["confidence_score"], float) and 0 <= result["confidence_score"] <= 1
    assert result["detected_objects"] == []
    assert result["detected_text"] is None
    assert result["detected_text_status"] == "ocr not configured"
    assert set(result["quality_parts"]) >= {"sharpness", "exposure", "resolution"}
    assert 1 <= len(result["dominant_colors"]) <= 5
    shares = [c["share"] for c in result["dominant_colors"]]
    assert shares == sorted(shares, reverse=True) and abs(sum(shares) - 1) < 0.01
    for colour in result["dominant_colors"]:
        assert set(colour) == {"hex", "share", "name"}
        assert colour["hex"].startswith("#") and len(colour["hex"]) == 7
    assert result["style_classification"] == "photographic"
    assert result["mood_keywords"]


def test_pure_red_is_named_red(tmp_path):
    result = analyse_file(solid_png(tmp_path / "red.png", (255, 0, 0)), data_type="product")
    top = result["dominant_colors"][0]
    assert top["name"] == "red"
    assert top["share"] > 0.9
    assert top["hex"] == "#ff0000"
    assert "vibrant" in result["mood_keywords"]


@pytest.mark.parametrize(
    ("colour", "word"),
    [((20, 20, 25), "dark"), ((250, 250, 245), "bright"), ((128, 128, 128), "muted")],
)
def test_mood_follows_brightness_and_saturation(tmp_path, colour, word):
    result = analyse_file(solid_png(tmp_path / "s.png", colour), data_type="product")
    assert word in result["mood_keywords"]


def test_a_blurred_copy_scores_lower(tmp_path, photo):
    blurred = tmp_path / "blurred.jpg"
    read(photo).gaussblur(4).jpegsave(str(blurred), Q=90)
    sharp_result = analyse_file(photo, data_type="product")
    blurred_result = analyse_file(blurred, data_type="product")
    assert blurred_result["quality_parts"]["sharpness"] < sharp_result["quality_parts"]["sharpness"] - 20
    assert blurred_result["quality_score"] < sharp_result["quality_score"]


def test_resolution_counts_against_2560(tmp_path):
    small = analyse_file(photo_jpeg(tmp_path / "s.jpg", 640, 480), data_type="product")
    assert small["quality_parts"]["resolution"] == 25.0


def test_a_logo_is_a_flat_graphic(tmp_path):
    logo(tmp_path / "l.png")
    result = analyse_file(tmp_path / "l.png", data_type="logo")
    assert result["style_classification"] == "flat graphic"
    assert result["medium_detected"] == "digital graphic"
    assert {c["name"] for c in result["dominant_colors"][:3]} >= {"white"}


def test_camera_exif_makes_it_a_photograph(tmp_path, photo):
    image = read(photo).copy()
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Make", "Acme")
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Model", "Snap 1")
    image.jpegsave(str(tmp_path / "cam.jpg"))
    assert analyse_file(tmp_path / "cam.jpg", data_type="product")["medium_detected"] == "photograph (Acme Snap 1)"


def test_deterministic(photo):
    assert analyse_file(photo, data_type="event") == analyse_file(photo, data_type="event")


def test_rejects_like_make_variants(tmp_path):
    with pytest.raises(ImageRejected):
        analyse_file(pixel_bomb_png(tmp_path / "b.png"), data_type="product")
