"""Colour signalled outside an ICC profile (AVIF/HEIF CICP, PNG cICP/sRGB/gAMA/cHRM) ends as
the sRGB a browser shows, measured against references computed by another route
(tests/helpers/colour.py: littlecms through Pillow's ImageCms, or the maths written out with
published constants), as mean CIE 1976 ΔE*ab. Each test also shows that the naive decode (the
numbers read as sRGB, as before) fails the same check."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import pyvips

from media_vm.imaging import make_variants, open_image, probe
from media_vm.imaging.colour_space import CICP_PRIMARIES, SRGB_PRIMARIES, to_srgb_matrix
from tests.helpers.colour import (
    P3_TO_SRGB,
    as_rgb,
    delta_e76,
    gamma_to_srgb,
    p3_gamma_to_srgb,
    p3_to_srgb_lcms,
    resized_to,
)
from tests.helpers.corpus import bugs_file, requires_bugs
from tests.helpers.images import (
    chrm_chunk,
    gama_chunk,
    heic_by_libheif_encoder,
    heif_decoded_by_libheif,
    heif_enc,
    photo_like,
    png_chunk,
    png_with_chunks,
    read,
)

#: What a browser shows must be within this mean ΔE*ab (CIE 1976) of the reference ...
RIGHT = 2.0
#: ... and the naive decode must be at least this far from it (the check can tell).
WRONG = 5.0


def saturated_scene(width: int = 320, height: int = 240) -> pyvips.Image:
    """A photo-like picture with strongly saturated areas, where gamut matters most."""
    picture = photo_like(width, height, seed=7).numpy().astype(np.int32)
    picture[: height // 3, : width // 3] = (250, 20, 30)
    picture[: height // 3, width // 3 : 2 * width // 3] = (20, 230, 40)
    picture[: height // 3, 2 * width // 3 :] = (30, 40, 240)
    return pyvips.Image.new_from_array(picture.astype(np.uint8)).copy(interpretation="srgb")


# --- the matrices, against published numbers -------------------------------------------------


def test_the_p3_matrix_matches_the_published_one():
    assert np.allclose(to_srgb_matrix(CICP_PRIMARIES[12]), P3_TO_SRGB, atol=2e-4)
    assert np.allclose(to_srgb_matrix(SRGB_PRIMARIES), np.eye(3), atol=1e-6)


def test_a_d50_white_is_bradford_adapted():
    """ProPhoto RGB (ROMM, D50) -> sRGB: Lindbloom's published RGB->XYZ, Bradford D50->D65
    and XYZ->sRGB matrices multiplied out, against ours computed from the chromaticities."""
    prophoto = ((0.7347, 0.2653), (0.1596, 0.8404), (0.0366, 0.0001), (0.3457, 0.3585))
    to_xyz = np.array([[0.7976749, 0.1351917, 0.0313534], [0.2880402, 0.7118741, 0.0000857], [0.0, 0.0, 0.8252100]])
    bradford = np.array(
        [[0.9555766, -0.0230393, 0.0631636], [-0.0282895, 1.0099416, 0.0210077], [0.0122982, -0.0204830, 1.3299098]]
    )
    to_srgb = np.array(
        [[3.2404542, -1.5371385, -0.4985314], [-0.9692660, 1.8760108, 0.0415560], [0.0556434, -0.2040259, 1.0572252]]
    )
    assert np.allclose(to_srgb_matrix(prophoto), to_srgb @ bradford @ to_xyz, atol=2e-3)


# --- AVIF/HEIF CICP (nclx) ---------------------------------------------------------------------


def _check_p3(decoded: np.ndarray, stored_p3: np.ndarray) -> tuple[float, float]:
    reference = p3_to_srgb_lcms(stored_p3)
    fixed, naive = delta_e76(decoded, reference), delta_e76(stored_p3, reference)
    assert fixed < RIGHT, (fixed, naive)
    assert naive > WRONG, (fixed, naive)
    return fixed, naive


def test_display_p3_avif_by_its_nclx_box_is_converted(tmp_path):
    source = heif_enc(saturated_scene(), tmp_path / "p3.avif", avif=True, cicp=(12, 13))
    info = probe(source)
    assert info.format == "avif" and info.colour is not None and info.colour.origin.startswith("CICP 12/13/")
    stored = as_rgb(read(source))  # libvips' plain decode: the P3 numbers, read as sRGB
    _check_p3(as_rgb(open_image(source)), stored)


def test_display_p3_heic_by_its_nclx_box_is_converted(tmp_path):
    source = heic_by_libheif_encoder(saturated_scene(), tmp_path / "p3.heic", cicp=(12, 13))
    assert probe(source).format == "heic"
    stored = heif_decoded_by_libheif(source)  # Debian's libheif: the P3 numbers
    _check_p3(as_rgb(open_image(source)), stored)


def test_srgb_nclx_changes_nothing(tmp_path):
    source = heif_enc(saturated_scene(), tmp_path / "srgb.avif", avif=True, cicp=(1, 13))
    assert probe(source).colour is None
    assert np.array_equal(as_rgb(open_image(source)), as_rgb(read(source)))


@requires_bugs
def test_the_display_p3_bug_file_variants_are_the_p3_pixels_in_srgb(tmp_path):
    source = bugs_file("display-p3-nclx.avif")
    reference = p3_to_srgb_lcms(as_rgb(read(source)))
    variants = make_variants(source, tmp_path, stem="p3", data_type="product", avif_effort=0)
    for v in variants:
        if v.size in ("small", "detail", "zoom") and v.format in ("jpeg", "webp"):
            decoded = as_rgb(read(v.path))
            scene = resized_to(reference, v.width, v.height)
            naive = resized_to(as_rgb(read(source)), v.width, v.height)
            fixed_error, naive_error = delta_e76(decoded, scene), delta_e76(naive, scene)
            assert fixed_error < RIGHT, (v.path.name, fixed_error)
            assert naive_error > WRONG, (v.path.name, naive_error)


# --- PNG gAMA / cHRM / sRGB / cICP -------------------------------------------------------------


def test_linear_light_png_by_its_gama_chunk_is_encoded_to_srgb(tmp_path):
    samples = saturated_scene().numpy()
    source = png_with_chunks(tmp_path / "linear.png", samples, [gama_chunk(1.0)])
    reference = gamma_to_srgb(samples, 1.0)
    fixed, naive = delta_e76(as_rgb(open_image(source)), reference), delta_e76(samples, reference)
    assert fixed < RIGHT and naive > WRONG, (fixed, naive)


def test_a_16_bit_linear_png_and_a_grey_one(tmp_path):
    samples16 = (saturated_scene().numpy().astype(np.uint32) * 257).astype(np.uint16)
    source = png_with_chunks(tmp_path / "linear16.png", samples16, [gama_chunk(1.0)])
    reference = gamma_to_srgb(samples16, 1.0, peak=65535)
    assert delta_e76(as_rgb(open_image(source)), reference) < RIGHT
    grey = saturated_scene().colourspace("b-w").numpy()
    source = png_with_chunks(tmp_path / "grey.png", grey, [gama_chunk(1.0)])
    reference = np.repeat(gamma_to_srgb(grey, 1.0)[..., None], 3, axis=2)
    decoded = open_image(source)
    assert decoded.bands == 3 and delta_e76(as_rgb(decoded), reference) < RIGHT
    assert delta_e76(np.repeat(grey[..., None], 3, axis=2), reference) > WRONG


def test_gama_with_chrm_takes_the_primaries_too(tmp_path):
    samples = saturated_scene().numpy()
    chunks = [gama_chunk(1 / 2.2), chrm_chunk(CICP_PRIMARIES[12])]
    source = png_with_chunks(tmp_path / "p3gamma.png", samples, chunks)
    reference = p3_gamma_to_srgb(samples, 1 / 2.2)
    fixed, naive = delta_e76(as_rgb(open_image(source)), reference), delta_e76(samples, reference)
    assert fixed < RIGHT and naive > WRONG, (fixed, naive)


def test_gama_of_a_2_2_display_is_nearly_srgb(tmp_path):
    samples = saturated_scene().numpy()
    source = png_with_chunks(tmp_path / "g22.png", samples, [gama_chunk(0.45455)])
    assert delta_e76(as_rgb(open_image(source)), gamma_to_srgb(samples, 0.45455)) < RIGHT


@pytest.mark.parametrize(
    "chunk",
    [
        pytest.param(png_chunk(b"sRGB", b"\x00"), id="sRGB"),
        pytest.param(png_chunk(b"iCCP", b"x\x00\x00" + b"broken"), id="iCCP"),
    ],
)
def test_srgb_and_iccp_chunks_override_gama(tmp_path, chunk):
    """The PNG spec's precedence: an sRGB chunk or an ICC profile wins over gAMA/cHRM."""
    samples = saturated_scene().numpy()
    source = png_with_chunks(tmp_path / "s.png", samples, [chunk, gama_chunk(1.0)])
    assert probe(source).colour is None


def test_a_cicp_chunk_in_a_png_is_honoured(tmp_path):
    samples = saturated_scene().numpy()
    source = png_with_chunks(tmp_path / "cicp.png", samples, [png_chunk(b"cICP", struct.pack(">4B", 12, 13, 0, 1))])
    _check_p3(as_rgb(open_image(source)), samples)


def test_nonsense_chunks_are_ignored(tmp_path):
    samples = saturated_scene(64, 48).numpy()
    for chunks in ([png_chunk(b"gAMA", struct.pack(">I", 0))], [png_chunk(b"cHRM", b"\x00" * 32)]):
        source = png_with_chunks(tmp_path / "n.png", samples, chunks)
        assert probe(source).colour is None
        assert np.array_equal(as_rgb(open_image(source)), samples)


def test_alpha_survives_the_conversion(tmp_path):
    rgba = np.dstack([saturated_scene(64, 48).numpy(), np.full((48, 64), 77, np.uint8)])
    source = png_with_chunks(tmp_path / "a.png", rgba, [gama_chunk(1.0)])
    decoded = open_image(source)
    assert decoded.bands == 4 and int(decoded[3].max()) == 77 and int(decoded[3].min()) == 77
    assert delta_e76(as_rgb(decoded), gamma_to_srgb(rgba[..., :3], 1.0)) < RIGHT


def test_the_heic_bug_file_matches_libheif_independently(tmp_path):
    """The pixels of an sRGB HEIC are libheif's: ours (pillow-heif's libheif) against Debian's."""
    source = heif_enc(saturated_scene(), tmp_path / "s.heic")
    assert delta_e76(as_rgb(open_image(source)), heif_decoded_by_libheif(source)) < 1.0
    if bugs_file("iphone-style.heic").is_file():
        bug = bugs_file("iphone-style.heic")
        assert delta_e76(as_rgb(open_image(bug)), heif_decoded_by_libheif(bug)) < RIGHT
