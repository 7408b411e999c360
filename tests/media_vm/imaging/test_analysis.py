"""analyse_file: real measurements on real (generated) images."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import pyvips

from media_vm.exceptions import ImageRejected
from media_vm.imaging import analyse, analyse_file
from media_vm.imaging.dominant_colours import srgb_to_lab
from shared.payloads import ANALYSIS_FIELDS, ANALYSIS_LOCAL_FIELDS
from tests.helpers.images import (
    ASTRONAUT_FACE,
    PAGE_LINES,
    astronaut_jpeg,
    logo,
    photo_jpeg,
    photo_like,
    pixel_bomb_png,
    read,
    solid_png,
    text_page,
)

TESSERACT = shutil.which("tesseract")
#: OCR tests run wherever Tesseract is; under CI (CI set) they run anyway and fail without it.
requires_tesseract = pytest.mark.skipif(
    TESSERACT is None and not os.environ.get("CI"),
    reason="tesseract not installed (apt-get install tesseract-ocr); under CI this is a failure",
)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    return photo_jpeg(tmp_path_factory.mktemp("analysis") / "photo.jpg", 1200, 900)


def delta_e(hex_colour: str, rgb: tuple[int, int, int]) -> float:
    given = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    lab = srgb_to_lab(np.array([given, rgb], dtype=np.uint8))
    return float(np.linalg.norm(lab[0] - lab[1]))


def test_keys_and_types(photo):
    result = analyse_file(photo, data_type="product")
    assert set(result) == set(ANALYSIS_FIELDS) | set(ANALYSIS_LOCAL_FIELDS)
    assert (result["width"], result["height"], result["format"], result["has_alpha"]) == (1200, 900, "jpeg", False)
    assert isinstance(result["quality_score"], int) and 0 <= result["quality_score"] <= 100
    assert isinstance(result["confidence_score"], float) and 0 <= result["confidence_score"] <= 1
    assert set(result["quality_parts"]) >= {"sharpness", "exposure", "noise", "resolution"}
    assert 5 <= len(result["dominant_colors"]) <= 8
    shares = [c["share"] for c in result["dominant_colors"]]
    assert shares == sorted(shares, reverse=True) and abs(sum(shares) - 1) < 0.01
    for colour in result["dominant_colors"]:
        assert set(colour) == {"hex", "share", "name"}
        assert colour["hex"].startswith("#") and len(colour["hex"]) == 7
    assert result["style_classification"]["label"] == "photographic"
    assert 0.4 <= result["style_classification"]["confidence"] <= 0.8
    assert result["medium_detected"] == "photograph"
    assert result["subject_matter"]["label"] == "photo"
    assert result["brand_colors"] is None
    assert len(result["phash"]) == 16
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


def test_noise_is_measured(tmp_path):
    """Gaussian noise of a known sigma on a flat grey image is estimated within 15%, and a
    noisy copy of the photo scores lower on noise than the original."""
    grey = pyvips.Image.black(800, 600, bands=3).new_from_image([128, 128, 128])
    noisy = (grey + pyvips.Image.gaussnoise(800, 600, sigma=6, mean=0, seed=3)).cast("uchar")
    noisy.copy(interpretation="srgb").pngsave(str(tmp_path / "noisy.png"))
    measured = analyse_file(tmp_path / "noisy.png", data_type="product")["quality_parts"]["measured"]["noise_sigma"]
    assert 6 * 0.85 <= measured <= 6 * 1.15

    clean = photo_like(1000, 750)
    clean.jpegsave(str(tmp_path / "clean.jpg"), Q=95)
    (clean + pyvips.Image.gaussnoise(1000, 750, sigma=10, mean=0, seed=4)).cast("uchar").copy(
        interpretation="srgb"
    ).jpegsave(str(tmp_path / "grainy.jpg"), Q=95)
    before = analyse_file(tmp_path / "clean.jpg", data_type="product")["quality_parts"]
    after = analyse_file(tmp_path / "grainy.jpg", data_type="product")["quality_parts"]
    assert after["measured"]["noise_sigma"] > before["measured"]["noise_sigma"] + 4
    assert after["noise"] < before["noise"]


def test_resolution_counts_against_2560(tmp_path):
    small = analyse_file(photo_jpeg(tmp_path / "s.jpg", 640, 480), data_type="product")
    assert small["quality_parts"]["resolution"] == 25.0


def test_a_logo_is_a_flat_graphic_with_its_brand_colours(tmp_path):
    logo(tmp_path / "l.png")
    result = analyse_file(tmp_path / "l.png", data_type="logo")
    assert result["style_classification"]["label"] == "flat graphic"
    assert result["medium_detected"] == "digital graphic"
    assert result["subject_matter"]["label"] == "logo"
    assert result["dominant_colors"][0]["name"] == "white"  # the background is most of the image
    assert result["background_removed"] is True
    assert result["brand_colors_basis"] == "the logo without its background"
    brand = result["brand_colors"]
    # the logo draws a blue ring and a red U; with the background gone they lead the palette
    top_two = brand[:2]
    assert min(delta_e(c["hex"], (20, 60, 200)) for c in top_two) < 8
    assert min(delta_e(c["hex"], (210, 30, 30)) for c in top_two) < 8
    # white stays only as the ring's enclosed hole, a small share
    assert all(c["share"] < 0.25 for c in brand if c["name"] == "white")


def test_a_logo_on_a_photo_keeps_its_background_and_says_so(tmp_path, photo):
    result = analyse_file(photo, data_type="logo")
    assert result["background_removed"] is False
    assert result["background_reason"].startswith("background not flat")
    assert result["brand_colors_basis"].startswith("whole image")
    assert result["brand_colors"] == result["dominant_colors"]


def test_camera_exif_makes_it_a_photograph(tmp_path, photo):
    image = read(photo).copy()
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Make", "Acme")
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Model", "Snap 1")
    image.jpegsave(str(tmp_path / "cam.jpg"))
    result = analyse_file(tmp_path / "cam.jpg", data_type="product")
    assert result["medium_detected"] == "photograph (Acme Snap 1)"
    assert result["medium_confidence"] == 0.95


def test_deterministic(photo):
    assert analyse_file(photo, data_type="event") == analyse_file(photo, data_type="event")


def test_rejects_like_make_variants(tmp_path):
    with pytest.raises(ImageRejected):
        analyse_file(pixel_bomb_png(tmp_path / "b.png"), data_type="product")


# -- text ------------------------------------------------------------------------------


@requires_tesseract
def test_text_on_a_page_is_read(tmp_path):
    result = analyse_file(text_page(tmp_path / "page.png"), data_type="product")
    assert result["detected_text_status"] == "ok"
    read_lines = result["detected_text"].splitlines()
    assert read_lines == list(PAGE_LINES)
    assert result["detected_text_confidence"] > 80
    assert result["subject_matter"]["label"] == "text document"
    assert result["subject_matter"]["has_text"] is True
    text = [o for o in result["detected_objects"] if o["label"] == "text"]
    assert len(text) == 1 and text[0]["words"] == sum(len(line.split()) for line in PAGE_LINES)


def test_without_tesseract_the_text_is_none_and_says_why(tmp_path):
    result = analyse_file(text_page(tmp_path / "page.png"), data_type="product", tesseract_cmd="/nonexistent/tesseract")
    assert result["detected_text"] is None
    assert result["detected_text_status"] == "tesseract not installed"
    # the text-like regions are still measured: a page full of them is a document
    assert result["subject_matter"]["label"] == "text document"


@requires_tesseract
def test_a_photo_without_text_is_not_sent_to_ocr(photo):
    result = analyse_file(photo, data_type="product")
    assert result["detected_text"] == ""
    assert result["detected_text_status"] == "no text-like regions (OCR not run)"


# -- faces and the salient region --------------------------------------------------------


def test_the_astronaut_has_one_face_where_it_is(tmp_path):
    result = analyse_file(astronaut_jpeg(tmp_path / "astronaut.jpg"), data_type="profile")
    faces = [o for o in result["detected_objects"] if o["label"] == "face"]
    assert len(faces) == 1
    x, y, w, h = (v / 512 for v in ASTRONAUT_FACE)
    box = faces[0]["box"]
    assert abs(box["x"] - x) < 0.03 and abs(box["y"] - y) < 0.03
    assert abs(box["w"] - w) < 0.03 and abs(box["h"] - h) < 0.03
    assert faces[0]["eyes"] >= 1 and faces[0]["votes"] >= 5 and 0 < faces[0]["confidence"] < 1
    assert result["subject_matter"]["people"] == 1
    assert result["subject_matter"]["label"] == "photo"


def test_generated_pictures_have_no_faces(photo, tmp_path):
    logo(tmp_path / "l.png")
    for path in (photo, tmp_path / "l.png"):
        assert not [o for o in analyse_file(path, data_type="product")["detected_objects"] if o["label"] == "face"]


def test_the_salient_region_is_on_the_only_object(tmp_path):
    """A single red disc on black: libvips' attention lands on it."""
    image = pyvips.Image.black(800, 600, bands=3).draw_circle([230, 30, 30], 620, 150, 60, fill=True)
    image.copy(interpretation="srgb").pngsave(str(tmp_path / "disc.png"))
    result = analyse_file(tmp_path / "disc.png", data_type="product")
    (region,) = [o for o in result["detected_objects"] if o["label"] == "salient region"]
    centre = region["centre"]
    assert abs(centre["x"] - 620 / 800) < 0.1 and abs(centre["y"] - 150 / 600) < 0.1
    box = region["box"]
    assert box["x"] <= 620 / 800 <= box["x"] + box["w"] and box["y"] <= 150 / 600 <= box["y"] + box["h"]


# -- fingerprint -------------------------------------------------------------------------


def test_near_copies_have_close_fingerprints_and_different_pictures_do_not(tmp_path, photo):
    from media_vm.similarity import hamming

    read(photo).resize(0.6).jpegsave(str(tmp_path / "copy.jpg"), Q=60)
    photo_jpeg(tmp_path / "other.jpg", 1200, 900, seed=5)
    astronaut_jpeg(tmp_path / "astronaut.jpg")
    original = analyse(photo, data_type="product").fingerprint
    copy = analyse(tmp_path / "copy.jpg", data_type="product").fingerprint
    assert len(original.embedding) == 159
    assert abs(np.linalg.norm(original.embedding) - 1) < 1e-9
    assert hamming(original.phash, copy.phash) <= 4
    assert float(np.dot(original.embedding, copy.embedding)) > 0.98
    for name in ("other.jpg", "astronaut.jpg"):
        other = analyse(tmp_path / name, data_type="product").fingerprint
        assert hamming(original.phash, other.phash) >= 16, name
        assert float(np.dot(original.embedding, other.embedding)) < 0.9, name


@pytest.mark.parametrize("size", [(1, 1), (2, 2), (3, 1), (1, 40), (4000, 3)])
def test_degenerate_sizes_are_analysed(tmp_path, size):
    path = solid_png(tmp_path / "tiny.png", (200, 10, 10), *size)
    result = analyse_file(path, data_type="logo")
    assert (result["width"], result["height"]) == size
    assert result["dominant_colors"][0]["name"] == "firebrick"  # #c80a0a: CSS firebrick (#b22222) is nearest
    assert [o for o in result["detected_objects"] if o["label"] == "face"] == []
