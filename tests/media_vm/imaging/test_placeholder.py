"""The placeholder: its ThumbHash decodes back (by the library's decoder, as a browser would with
the reference JavaScript) to a picture whose 4 x 4 cells match the thumbnail's within ΔE 15, which
a flat colour of the image's mean does not."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest
import pyvips
import skimage.data

from media_vm.imaging import analyse_file, make_variants
from media_vm.imaging.placeholder import decode_thumbhash, rgba_pixels
from tests.helpers.colour import as_rgb, resized_to, srgb8_to_lab
from tests.helpers.images import astronaut_jpeg, logo

#: The issue's bar: every cell of a 4 x 4 downscale within this CIE ΔE*ab of the thumbnail's.
CELL_DELTA_E = 15.0


def cell_delta_e(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """4 x 4 CIE 1976 ΔE*ab between the 4 x 4 downscales of two HxWx3 uint8 sRGB pictures."""
    return np.sqrt(((srgb8_to_lab(resized_to(a, 4, 4)) - srgb8_to_lab(resized_to(b, 4, 4))) ** 2).sum(axis=-1))


def variant_pixels(variants, size: str) -> np.ndarray:
    jpeg = next(v for v in variants if v.size == size and v.format == "jpeg" and v.bg == "original")
    return as_rgb(pyvips.Image.new_from_file(str(jpeg.path)))


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory):
    """A real photo (square, so the 300 x 300 thumbnail crop is the whole scene)."""
    folder = tmp_path_factory.mktemp("placeholder")
    source = astronaut_jpeg(folder / "astronaut.jpg")
    variants = make_variants(source, folder / "out", stem="a1", data_type="product")
    return analyse_file(source, data_type="product", tesseract_cmd=None), variants


def test_shape(astronaut):
    placeholder = astronaut[0]["placeholder"]
    assert set(placeholder) == {"thumbhash", "dominant_color"}
    assert re.fullmatch(r"#[0-9a-f]{6}", placeholder["dominant_color"])
    assert placeholder["dominant_color"] == astronaut[0]["dominant_colors"][0]["hex"]
    raw = base64.b64decode(placeholder["thumbhash"], validate=True)
    assert 20 <= len(raw) <= 30  # ThumbHash: about 25 bytes for an opaque photo


def test_thumbhash_decodes_to_the_thumbnail_and_a_flat_colour_does_not(astronaut):
    analysis, variants = astronaut
    decoded = decode_thumbhash(analysis["placeholder"]["thumbhash"])
    assert decoded.shape[:2] == (32, 32) and (decoded[..., 3] == 255).all()  # square, opaque
    thumbnail = variant_pixels(variants, "thumbnail")
    cells = cell_delta_e(decoded[..., :3], thumbnail)
    print("astronaut cells ΔE:", np.round(cells, 1).tolist())
    assert cells.max() <= CELL_DELTA_E, np.round(cells, 1)

    mean = np.broadcast_to(thumbnail.reshape(-1, 3).mean(axis=0).round().astype(np.uint8), thumbnail.shape)
    flat = cell_delta_e(np.ascontiguousarray(mean), thumbnail)
    print("flat mean cells ΔE:", np.round(flat, 1).tolist())
    assert flat.max() > CELL_DELTA_E  # the check has teeth: a photo's structure is in the hash


def test_a_landscape_photo_keeps_its_aspect_and_matches_its_small_variant(tmp_path):
    """scikit-image's ``coffee`` (600 x 400), a real photo. (The generated ``photo_like`` is
    blotches of strong colour at about the scale of a 4 x 4 cell, which ThumbHash's 3 x 3 chroma
    terms do not carry: its worst cell is ΔE 19; that is a limit of ThumbHash, not of photos.)"""
    source = tmp_path / "coffee.jpg"
    pyvips.Image.new_from_array(skimage.data.coffee()).copy(interpretation="srgb").jpegsave(str(source), Q=92)
    variants = make_variants(source, tmp_path / "out", stem="p1", data_type="product")
    analysis = analyse_file(source, data_type="product", tesseract_cmd=None)
    decoded = decode_thumbhash(analysis["placeholder"]["thumbhash"])
    assert decoded.shape[:2] == (23, 32)  # landscape, about 3:2 (ThumbHash keeps the ratio of its 7 x 5 terms)
    small = variant_pixels(variants, "small")  # the whole scene (the thumbnail is a square crop)
    cells = cell_delta_e(decoded[..., :3], small)
    print("coffee cells ΔE:", np.round(cells, 1).tolist())
    assert cells.max() <= CELL_DELTA_E
    mean = np.broadcast_to(small.reshape(-1, 3).mean(axis=0).round().astype(np.uint8), small.shape)
    assert cell_delta_e(np.ascontiguousarray(mean), small).max() > CELL_DELTA_E


def test_a_transparent_logo_keeps_its_alpha(tmp_path):
    geometry = logo(tmp_path / "logo.png")
    image = pyvips.Image.new_from_file(str(tmp_path / "logo.png"))
    image = image.bandjoin((image[0] < 250) | (image[1] < 250) | (image[2] < 250))  # white -> clear
    image.pngsave(str(tmp_path / "clear.png"))
    analysis = analyse_file(tmp_path / "clear.png", data_type="logo", tesseract_cmd=None)
    assert analysis["has_alpha"] and geometry
    decoded = decode_thumbhash(analysis["placeholder"]["thumbhash"])
    assert decoded[0, 0, 3] < 64 and decoded[..., 3].max() > 128  # clear corner, opaque marks
    assert analysis["placeholder"]["dominant_color"] != "#ffffff"  # the visible pixels only


def test_the_downscale_is_at_most_100_px_and_never_enlarged():
    big = pyvips.Image.black(1000, 400, bands=3).copy(interpretation="srgb").cast("uchar")
    assert rgba_pixels(big).shape == (40, 100, 4)
    tiny = pyvips.Image.black(3, 1).copy(interpretation="b-w").cast("uchar")
    assert rgba_pixels(tiny).shape == (1, 3, 4)
