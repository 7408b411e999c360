"""The files users' devices make: HEIC from phones, and the "keep right" list of issue 12 that
the other imaging tests did not cover yet (each measured against a known picture)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import pyvips

from media_vm.exceptions import ImageRejected
from media_vm.imaging import make_variants, open_image, probe
from shared.sizes import SIZES
from tests.helpers.colour import as_rgb, delta_e76
from tests.helpers.corpus import bugs_file, requires_bugs
from tests.helpers.images import (
    CORNER_COLOURS,
    heic_by_libheif_encoder,
    heif_decoded_by_libheif,
    heif_enc,
    photo_like,
    read,
    region_mean,
    stored_for_orientation,
    upright_orientation_picture,
)

# --- HEIC --------------------------------------------------------------------------------------


def test_a_heic_becomes_the_full_variant_set_with_libheifs_colours(tmp_path):
    # a phone photo is smooth at pixel level; photo_like's sensor grain alone costs ~2.3 ΔE in
    # any JPEG at q82 with 4:2:0, which is the encoder, not the colour
    source = heif_enc(photo_like(640, 480).gaussblur(1.2).cast("uchar"), tmp_path / "IMG_0001.heic")
    info = probe(source)
    assert (info.format, info.width, info.height) == ("heic", 640, 480)
    reference = heif_decoded_by_libheif(source)
    variants = make_variants(source, tmp_path / "out", stem="h", data_type="product", avif_effort=0)
    assert {(v.size, v.format) for v in variants} == {(s.name, f) for s in SIZES for f in ("avif", "webp", "jpeg")}
    for v in variants:
        if v.size == "zoom" and v.format == "jpeg":  # full size (640x480): pixel for pixel
            error = delta_e76(as_rgb(read(v.path)), reference)
            assert error < 2, (v.path.name, error)


@requires_bugs
def test_the_iphone_bug_file_is_processed_upright_with_libheifs_colours(tmp_path):
    source = bugs_file("iphone-style.heic")
    reference = heif_decoded_by_libheif(source)
    variants = make_variants(source, tmp_path, stem="i", data_type="product", avif_effort=0)
    assert len(variants) == 18
    zoom = read(next(v.path for v in variants if v.size == "zoom" and v.format == "jpeg"))
    assert (zoom.width, zoom.height) == (1600, 1200)
    assert delta_e76(as_rgb(zoom), reference) < 2


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_heif_irot_is_applied_once_even_when_exif_says_the_same(tmp_path, orientation):
    """libheif writes irot/imir for the orientation and resets EXIF's to 1; an iPhone keeps
    both. Either way the picture comes out upright: the EXIF value is not applied again."""
    upright = upright_orientation_picture(160, 100)
    stored = pyvips.Image.new_from_array(stored_for_orientation(upright, orientation)).copy(interpretation="srgb")
    source = heic_by_libheif_encoder(stored, tmp_path / "o.heic", orientation=orientation)
    data = bytearray(source.read_bytes())
    assert b"irot" in data
    tag = b"\x01\x12\x00\x03\x00\x00\x00\x01"  # big-endian EXIF: Orientation, SHORT, count 1
    at = data.index(tag) + len(tag)
    data[at : at + 2] = orientation.to_bytes(2, "big")  # as an iPhone writes: EXIF says it too
    source.write_bytes(bytes(data))
    image = open_image(source)
    assert (image.width, image.height) == (160, 100)
    assert np.allclose(region_mean(image, 4, 4, 30, 17), CORNER_COLOURS["top_left"], atol=25)
    assert np.allclose(region_mean(image, 126, 79, 30, 17), CORNER_COLOURS["bottom_right"], atol=25)


def test_a_truncated_heic_is_rejected(tmp_path):
    source = heif_enc(photo_like(320, 240), tmp_path / "h.heic")
    source.write_bytes(source.read_bytes()[: source.stat().st_size * 2 // 3])
    with pytest.raises(ImageRejected):
        make_variants(source, tmp_path / "out", stem="t", data_type="product")


def test_without_pillow_heif_heic_is_refused_with_its_reason(tmp_path, monkeypatch):
    source = heif_enc(photo_like(64, 48), tmp_path / "h.heic")
    monkeypatch.setitem(sys.modules, "pillow_heif", None)
    with pytest.raises(ImageRejected, match="HEIC .* not accepted on this host"):
        open_image(source)


# --- keep right --------------------------------------------------------------------------------


def test_a_cmyk_jpeg_without_a_profile_as_photoshop_writes_it(tmp_path):
    """Adobe's CMYK JPEGs store inverted ink values (APP14 "Adobe" marker); Pillow writes them
    the same way. Without a profile, libvips' fallback CMYK profile makes them sRGB."""
    from PIL import Image

    rgb = photo_like(160, 120).numpy()
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "c.jpg", quality=95)
    assert read(tmp_path / "c.jpg").interpretation == "cmyk"
    assert not read(tmp_path / "c.jpg").get_typeof("icc-profile-data")
    decoded = as_rgb(open_image(tmp_path / "c.jpg"))
    # a profile-less naive CMYK->RGB is far off; ours is close to the picture (no inversion)
    assert np.abs(decoded.astype(float) - rgb).mean() < 25
    assert np.abs((255 - decoded).astype(float) - rgb).mean() > 60


def test_a_palette_png_with_trns_keeps_its_transparent_pixels(tmp_path):
    from PIL import Image

    palette = Image.new("P", (40, 30), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    for x in range(20, 40):
        for y in range(30):
            palette.putpixel((x, y), 1)
    palette.save(tmp_path / "p.png", transparency=0)  # index 0 (red) is transparent: a tRNS chunk
    image = open_image(tmp_path / "p.png")
    assert image.bands == 4
    assert region_mean(image, 0, 0, 20, 30)[3] == 0
    assert np.allclose(region_mean(image, 20, 0, 20, 30), [0, 0, 255, 255])


def test_no_dark_halo_at_transparent_edges(tmp_path):
    """A white disc on fully transparent *black* pixels: resizing without premultiplied alpha
    blends the black in and rims the disc with grey."""
    size = 800
    y, x = np.mgrid[0:size, 0:size]
    alpha = (((x - size / 2) ** 2 + (y - size / 2) ** 2) < (size / 3) ** 2).astype(np.uint8) * 255
    rgba = np.dstack([np.where(alpha[..., None] > 0, 255, 0).repeat(3, axis=2).astype(np.uint8), alpha])
    pyvips.Image.new_from_array(rgba).copy(interpretation="srgb").pngsave(str(tmp_path / "disc.png"))
    variants = make_variants(tmp_path / "disc.png", tmp_path / "out", stem="d", data_type="product", avif_effort=0)
    rims = 0
    for v in variants:
        if v.format == "png":
            image = read(v.path).numpy()
            partly = (image[..., 3] > 20) & (image[..., 3] < 235)  # the anti-aliased rim of a resized size
            rims += int(partly.sum())
            if partly.any():
                assert image[partly][:, :3].min() > 235, v.path.name  # still white, not grey
        if v.format == "jpeg":  # flattened on white: the rim is white too
            assert read(v.path).numpy().min() > 235, v.path.name
    assert rims > 100


def test_a_16_bit_tiff_keeps_its_colours(tmp_path):
    picture = photo_like(160, 120)
    picture.colourspace("rgb16").tiffsave(str(tmp_path / "t16.tif"))
    assert read(tmp_path / "t16.tif").format == "ushort"
    assert delta_e76(as_rgb(open_image(tmp_path / "t16.tif")), picture.numpy()) < 1


@pytest.mark.parametrize("fmt", ["png", "webp", "avif"])
@pytest.mark.parametrize("orientation", [6, 3])
def test_exif_orientation_in_png_webp_avif_is_applied_once(tmp_path, fmt, orientation):
    upright = upright_orientation_picture(160, 100)
    stored = pyvips.Image.new_from_array(stored_for_orientation(upright, orientation)).copy(interpretation="srgb")
    stored.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    path = tmp_path / f"o.{fmt}"
    {"png": lambda: stored.pngsave(str(path)), "webp": lambda: stored.webpsave(str(path), lossless=True),
     "avif": lambda: stored.heifsave(str(path), compression="av1", lossless=True, effort=0)}[fmt]()
    variants = make_variants(path, tmp_path / "out", stem="o", data_type="product", avif_effort=0)
    zoom = read(next(v.path for v in variants if v.size == "zoom" and v.format == "webp"))
    assert (zoom.width, zoom.height) == (160, 100)
    assert np.allclose(region_mean(zoom, 4, 4, 30, 17), CORNER_COLOURS["top_left"], atol=25)
    assert np.allclose(region_mean(zoom, 126, 79, 30, 17), CORNER_COLOURS["bottom_right"], atol=25)


@pytest.mark.parametrize(("width", "height"), [(3000, 1), (1, 3000)])
def test_one_pixel_strips_survive_every_crop(tmp_path, width, height):
    strip = photo_like(width, height)
    strip.pngsave(str(tmp_path / "s.png"))
    variants = make_variants(tmp_path / "s.png", tmp_path / "out", stem="s", data_type="product", avif_effort=0)
    assert {v.size for v in variants} == {s.name for s in SIZES}
    for v in variants:
        image = read(v.path)
        assert image.width >= 1 and image.height >= 1 and (image.width, image.height) == (v.width, v.height)


def test_an_adobe_rgb_tagged_image_gets_littlecms_colours(tmp_path):
    """Adobe RGB (1998) numbers with their profile, as a camera or Photoshop writes them: shown as
    littlecms converts them to sRGB; reading the numbers as sRGB would be visibly off."""
    from tests.helpers.colour import adobe_rgb_icc, icc_to_srgb_lcms

    icc = adobe_rgb_icc()
    numbers = photo_like(200, 150).gaussblur(1.0).cast("uchar")
    tagged = numbers.copy()
    tagged.set_type(pyvips.GValue.blob_type, "icc-profile-data", icc)
    source = tmp_path / "adobe.png"  # lossless, so only the colour conversion is measured
    tagged.pngsave(str(source))
    reference = icc_to_srgb_lcms(as_rgb(numbers), icc)
    shown = as_rgb(open_image(source))
    assert delta_e76(shown, reference) < 2
    assert delta_e76(as_rgb(numbers), reference) > 3, "the naive reading would not be caught"
