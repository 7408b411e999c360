"""The pipeline against real-world files of ../shared/corpus (from libvips' own test suite).

Skipped with "../shared/corpus not present" where the folder is absent; under CI (``CI``
set) a missing corpus fails at collection instead.

Note: the corpus README calls rotation-0.png the upright reference of rotation-1..8.jpg,
but it is a different picture (a man in a field, 290x442). The upright reference used
here is rotation-1.jpg (EXIF orientation 1 = stored upright); rotation-5..8 are stored
at a smaller scale (308x231), so pictures are compared at a common size.
"""

from __future__ import annotations

import numpy as np
import pytest
import pyvips

from media_vm.exceptions import ImageRejected
from media_vm.imaging import analyse_file, make_variants, open_image, probe
from tests.helpers.corpus import CORPUS_MARKS, check_corpus_for_ci, corpus_file
from tests.helpers.images import read

check_corpus_for_ci()
pytestmark = CORPUS_MARKS


def _normalised(image: pyvips.Image, width: int = 60, height: int = 80) -> np.ndarray:
    image = image.colourspace("srgb")
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    return image.resize(width / image.width, vscale=height / image.height).cast("uchar").numpy().astype(float)


@pytest.fixture(scope="module")
def upright_rotation():
    return _normalised(open_image(corpus_file("rotation-1.jpg")))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_rotation_files_come_out_upright(tmp_path, upright_rotation, orientation):
    variants = make_variants(
        corpus_file(f"rotation-{orientation}.jpg"), tmp_path, stem="r", data_type="product", avif_effort=0
    )
    for v in variants:
        image = read(v.path)
        assert image.height > image.width or v.size in ("thumbnail", "grid", "header")
        if v.size in ("small", "detail", "zoom"):  # whole picture: compare with the upright one
            error = np.abs(_normalised(image) - upright_rotation).mean()
            assert error < 8, (v.path.name, error)
            mirrored = np.abs(_normalised(image)[:, ::-1] - upright_rotation).mean()
            assert mirrored > 2 * error + 10  # and the comparison can tell a mirror apart


def test_avif_orientation_gps_and_exif_are_handled(tmp_path):
    source = corpus_file("avif-orientation-6.avif")
    assert "exif-ifd3-GPSLatitude" in read(source).get_fields()
    info = probe(source)
    assert (info.width, info.height, info.format) == (3024, 4032, "avif")
    variants = make_variants(source, tmp_path, stem="a", data_type="product", avif_effort=0)
    zoom = {(v.width, v.height) for v in variants if v.size == "zoom"}
    assert zoom == {(1920, 2560)}
    for v in variants:
        fields = read(v.path).get_fields()
        assert "exif-data" not in fields and not [f for f in fields if f.startswith("exif-")], v.path.name
        assert "orientation" not in fields


def test_decompression_bomb_is_rejected_quickly(tmp_path):
    cut = tmp_path / "cut.avif"  # no coded pixels left: only a header-judged refusal names the limit
    cut.write_bytes(corpus_file("17000x17000.avif").read_bytes()[:1024])
    for source in (corpus_file("17000x17000.avif"), cut):
        with pytest.raises(ImageRejected, match=r"17000x17000 = 289.0 MP, over the 100.0 MP limit"):
            make_variants(source, tmp_path / "out", stem="b", data_type="product")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ImageRejected, match="over the 100.0 MP limit"):
        analyse_file(corpus_file("17000x17000.avif"), data_type="product")


@pytest.mark.parametrize("name", ["truncated.jpg", "truncated.gif", "invalid_multiframe.gif"])
def test_broken_files_are_rejected_and_write_nothing(tmp_path, name):
    out = tmp_path / "out"
    with pytest.raises(ImageRejected):
        make_variants(corpus_file(name), out, stem="x", data_type="product")
    with pytest.raises(ImageRejected):
        analyse_file(corpus_file(name), data_type="product")
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize("name", ["logo.svg", "small.bmp", "favicon.ico", "truncated.svgz"])
def test_formats_outside_the_allowlist_are_rejected(name):
    with pytest.raises(ImageRejected, match="not a supported image format"):
        open_image(corpus_file(name))
    with pytest.raises(pyvips.Error):  # libvips itself refuses, not only our check
        pyvips.Image.new_from_file(str(corpus_file(name)))


def test_webp_that_looks_like_svg_is_decoded_as_webp(tmp_path):
    source = corpus_file("looks-like-svg.webp")
    assert probe(source).format == "webp"
    variants = make_variants(source, tmp_path, stem="w", data_type="product", avif_effort=0)
    assert {v.format for v in variants} >= {"avif", "webp", "jpeg"}


def test_rgba_png_keeps_its_alpha(tmp_path):
    source = corpus_file("rgba.png")
    original_alpha = read(source)[3].numpy()
    variants = make_variants(source, tmp_path, stem="a", data_type="product", avif_effort=0)
    png = read(next(v.path for v in variants if v.size == "zoom" and v.format == "png"))
    assert png.bands == 4
    assert np.array_equal(png[3].numpy(), original_alpha)  # 128x128: same size, lossless
    jpeg = read(next(v.path for v in variants if v.size == "zoom" and v.format == "jpeg"))
    assert jpeg.bands == 3


@pytest.mark.parametrize(
    ("name", "size", "alpha"),
    [
        ("cogs.gif", (85, 77), True),  # animated: first frame only
        ("dispose-background.gif", (192, 168), True),
        ("trans-x.gif", (100, 100), True),
        ("trans-x.png", (100, 100), True),
        ("indexed.png", (290, 442), False),
        ("1bit.tif", (256, 4), False),
        ("subsampled.tif", (250, 325), False),
        ("big-height.webp", (13, 169), False),
        ("1.webp", (550, 368), False),
        ("sample.jpg", (290, 442), False),
        ("sample-xyb.jpg", (290, 442), False),
        ("ultra-hdr.jpg", (3840, 2160), False),
    ],
)
def test_real_world_inputs_decode_to_8_bit_srgb(name, size, alpha):
    info = probe(corpus_file(name))
    assert (info.width, info.height) == size
    image = open_image(corpus_file(name), fit=(400, 400))
    assert (image.interpretation, image.format) == ("srgb", "uchar")
    assert image.bands == (4 if alpha else 3)


def test_xyb_jpeg_needs_its_icc_profile_and_gets_it():
    """sample-xyb.jpg stores XYB values that only its embedded profile turns into colour."""
    plain = open_image(corpus_file("sample.jpg")).numpy().astype(float)
    xyb = open_image(corpus_file("sample-xyb.jpg")).numpy().astype(float)
    raw = read(corpus_file("sample-xyb.jpg")).numpy().astype(float)  # ignoring the profile
    assert np.abs(xyb - plain).mean() < 6
    assert np.abs(raw - plain).mean() > 3 * np.abs(xyb - plain).mean()
