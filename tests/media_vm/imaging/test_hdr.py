"""HDR AVIF/HEIC (BT.2100 PQ and HLG in BT.2020) become the SDR sRGB a browser shows on an ordinary
display: an HDR export of an SDR picture decodes back to that picture, and highlights above the
BT.2408 reference white (203 cd/m2) are compressed, not clipped to flat white.

The files are made from a known sRGB picture by the maths of tests/helpers/colour.py (BT.2087's
printed matrix, the ST 2084 and BT.2100 curves written out there), encoded by libavif's avifenc or
pillow-heif's libheif; measured as mean CIE 1976 ΔE*ab (tests/helpers/colour.py:delta_e76)."""

from __future__ import annotations

import numpy as np
import pytest

from media_vm.imaging import make_variants, open_image, probe
from media_vm.imaging.hdr import bt2390_eetf, hlg_inverse_oetf, hlg_ootf, pq_eotf, pq_inverse_eotf
from tests.helpers.colour import (
    REFERENCE_WHITE_NITS,
    as_rgb,
    delta_e76,
    grey_nits_to_pq16,
    pq_decode,
    pq_encode,
    resized_to,
    srgb8_to_hdr16,
    srgb_encode,
)
from tests.helpers.images import avifenc_hdr, heic_hdr_by_libheif_encoder, photo_like, read

#: An HDR export of an SDR picture must decode within this mean ΔE*ab (CIE 1976) of it.
RIGHT = 3.0
PQ, HLG = (9, 16, 9), (9, 18, 9)


def sdr_picture(width: int = 320, height: int = 240) -> np.ndarray:
    """A photo-like sRGB picture with saturated patches and a white one (nothing above white)."""
    picture = photo_like(width, height, seed=11).numpy().astype(np.uint8)
    picture[: height // 4, : width // 4] = (250, 20, 30)
    picture[: height // 4, width // 4 : width // 2] = (20, 230, 40)
    picture[: height // 4, width // 2 : 3 * width // 4] = (30, 40, 240)
    picture[: height // 4, 3 * width // 4 :] = (255, 255, 255)
    return picture


# --- the curves, against the standards' own numbers ---------------------------------------------


def test_the_curves_meet_the_published_reference_points():
    # SMPTE ST 2084: signal 1 is 10000 cd/m2, 0 is 0; BT.2408-7 table 1: 203 cd/m2 is PQ 58 %,
    # and HLG 75 % on the 1000 cd/m2 reference display
    assert pq_eotf(np.array([0.0, 1.0])) == pytest.approx([0.0, 10000.0], abs=1e-3)
    assert pq_inverse_eotf(np.array(203.0)) == pytest.approx(0.58, abs=0.005)
    assert pq_eotf(pq_inverse_eotf(np.array([0.1, 100.0, 1000.0]))) == pytest.approx([0.1, 100.0, 1000.0], rel=1e-4)
    grey = np.full((1, 1, 3), float(hlg_inverse_oetf(np.array(0.75))))
    assert hlg_ootf(grey)[0, 0] == pytest.approx([203.0] * 3, rel=0.01)
    # BT.2100 table 5: the HLG inverse OETF of 0.5 is 1/12, of 1 is 1
    assert hlg_inverse_oetf(np.array([0.5, 1.0])) == pytest.approx([1 / 12, 1.0], abs=1e-6)


def test_the_eetf_keeps_the_midtones_and_compresses_the_highlights_into_the_target():
    signal = np.linspace(0, float(pq_inverse_eotf(np.array(1000.0))), 2001)
    mapped = bt2390_eetf(signal, source_peak=1000.0, target_peak=REFERENCE_WHITE_NITS)
    assert np.all(np.diff(mapped) > 0)  # strictly monotonic: nothing merges
    assert mapped[-1] == pytest.approx(float(pq_inverse_eotf(np.array(REFERENCE_WHITE_NITS))), abs=1e-6)
    low = pq_eotf(signal) < 50
    assert np.allclose(mapped[low], signal[low])  # below the knee: untouched
    # nothing to compress when the content's peak is within the target
    assert np.array_equal(bt2390_eetf(signal, source_peak=150.0, target_peak=203.0), signal)


# --- an HDR export of an SDR picture gives back that picture --------------------------------------


def _decoded_error(tmp_path, name: str, maker, cicp) -> tuple[float, np.ndarray]:
    picture = sdr_picture()
    transfer = "pq" if cicp[1] == 16 else "hlg"
    source = maker(srgb8_to_hdr16(picture, transfer), tmp_path / name, cicp=cicp)
    info = probe(source)
    assert info.colour is not None and info.colour.origin.startswith(f"CICP {cicp[0]}/{cicp[1]}/")
    decoded = as_rgb(open_image(source))
    return delta_e76(decoded, picture), picture


@pytest.mark.parametrize("cicp", [PQ, HLG], ids=["pq", "hlg"])
def test_an_hdr_avif_of_an_sdr_picture_decodes_to_that_picture(tmp_path, cicp):
    error, _ = _decoded_error(tmp_path, "hdr.avif", avifenc_hdr, cicp)
    assert error < RIGHT, error


@pytest.mark.parametrize("cicp", [PQ, HLG], ids=["pq", "hlg"])
def test_an_hdr_heic_of_an_sdr_picture_decodes_to_that_picture(tmp_path, cicp):
    error, _ = _decoded_error(tmp_path, "hdr.heic", heic_hdr_by_libheif_encoder, cicp)
    assert error < RIGHT, error


def test_every_variant_of_a_pq_avif_is_the_sdr_picture(tmp_path):
    picture = sdr_picture(640, 480)
    source = avifenc_hdr(srgb8_to_hdr16(picture, "pq"), tmp_path / "pq.avif", cicp=PQ)
    variants = make_variants(source, tmp_path, stem="pq", data_type="product", avif_effort=0)
    checked = 0
    for v in variants:
        if v.size in ("small", "detail", "zoom") and v.format in ("jpeg", "webp"):  # fitted, not cropped
            decoded = as_rgb(read(v.path))
            error = delta_e76(decoded, resized_to(picture, v.width, v.height))
            assert error < RIGHT, (v.path.name, error)
            checked += 1
    assert checked >= 2


# --- highlights above reference white -------------------------------------------------------------


def test_a_pq_ramp_to_1000_nits_is_tone_mapped_not_clipped(tmp_path):
    """A grey ramp even in PQ from 0 to 1000 cd/m2: the darks are the SDR picture's (light / 203,
    sRGB-encoded), the whole ramp never goes down, and the part above reference white keeps
    distinct levels (203 < 300 < 400 < 500 cd/m2 < white) instead of turning flat white."""
    width = 1024
    nits_row = pq_decode(np.linspace(0, float(pq_encode(1000.0)), width))
    source = avifenc_hdr(grey_nits_to_pq16(np.tile(nits_row, (16, 1))), tmp_path / "ramp.avif", cicp=PQ)
    row = as_rgb(open_image(source))[8, :, :].astype(int)
    grey = row.mean(axis=1)
    assert np.abs(row - grey[:, None]).max() <= 2  # stays neutral
    assert np.all(np.diff(grey) >= -0.5), np.diff(grey).min()  # monotonic (lossy coding: half a level)
    dark = nits_row <= 20
    expected_dark = srgb_encode(nits_row[dark] / REFERENCE_WHITE_NITS) * 255
    assert np.abs(grey[dark] - expected_dark).max() <= 3
    bright = nits_row >= REFERENCE_WHITE_NITS
    levels = np.unique(np.round(grey[bright]))
    assert len(levels) >= 20, levels  # distinguishable
    at = {nits: grey[np.argmin(np.abs(nits_row - nits))] for nits in (REFERENCE_WHITE_NITS, 300, 400, 500)}
    assert at[REFERENCE_WHITE_NITS] + 5 < at[300] + 2 < at[400] + 1 < at[500] < 254.5, at
    # BT.2390's curve reaches its peak with slope 0, so the top of the ramp nears white smoothly;
    # a clip at 500 cd/m2 would make 44 % of these columns white, a clip at 203 all of them
    assert np.mean(grey[bright] >= 254.5) < 0.3
    assert grey[-1] >= 254  # and the peak is white, not grey


# --- colours outside sRGB -------------------------------------------------------------------------


def test_a_bt2020_colour_outside_srgb_keeps_its_lightness_and_nearly_its_hue(tmp_path):
    """BT.2020 green and cyan at half reference white cannot be shown in sRGB: they come out
    desaturated towards the grey of the same luminance, so their CIELAB lightness is the true
    colour's and their hue close to it; clipping each channel would make both lighter."""
    from tests.helpers.colour import BT709_TO_BT2020, SRGB_TO_XYZ, pq_encode, srgb8_to_lab

    bt2020 = np.zeros((32, 64, 3))
    bt2020[:, :32] = (0.0, 0.5, 0.0)
    bt2020[:, 32:] = (0.0, 0.5, 0.5)
    samples = np.round(pq_encode(bt2020 * REFERENCE_WHITE_NITS) * 65535).astype(np.uint16)
    decoded = as_rgb(open_image(avifenc_hdr(samples, tmp_path / "wide.avif", cicp=PQ)))
    for x, rgb in ((16, bt2020[0, 0]), (48, bt2020[0, 40])):
        linear709 = np.linalg.solve(BT709_TO_BT2020, rgb)  # outside 0-1: outside sRGB
        assert linear709.min() < -0.01
        true = _lab_of_linear(linear709 @ SRGB_TO_XYZ.T)
        got = srgb8_to_lab(decoded[16, x])
        clipped = srgb8_to_lab(np.round(srgb_encode(np.clip(linear709, 0, 1)) * 255))
        assert abs(got[0] - true[0]) < 1.5, (got, true)
        assert clipped[0] - true[0] > 4  # what clipping each channel would have done
        hue = np.degrees(np.arctan2(got[2], got[1]) - np.arctan2(true[2], true[1]))
        assert abs((hue + 180) % 360 - 180) < 8, (got, true)


def _lab_of_linear(xyz: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of XYZ, as tests/helpers/colour.py:srgb8_to_lab computes it."""
    from tests.helpers.colour import D65_XYZ

    f = np.cbrt(xyz / D65_XYZ)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])
