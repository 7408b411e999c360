"""The content checks behind the upload: magic bytes, then the media VM's own verdict."""

from __future__ import annotations

import io

import pytest

from main_api.common.exceptions import InvalidImage
from main_api.media.intake.gate import check_image, original_name_clean, sniff_mime_type
from tests.helpers.images import FORMATS, heif_bytes, heif_enc, image_bytes, photo_like


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xdb", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"II*\x00", "image/tiff"),
        (b"MM\x00*", "image/tiff"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00mif1miaf", "image/avif"),
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avif", "image/avif"),  # AVIF by compatible brand
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heif"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isomiso2", None),  # an MP4 video
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"<svg xmlns=", None),
        (b"BM", None),  # BMP is not accepted
        (b"%PDF-1.7", None),
    ],
)
def test_magic_bytes(head, expected):
    assert sniff_mime_type(head) == expected


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_check_image_reports_type_extension_and_size(fmt):
    result = check_image(io.BytesIO(image_bytes(fmt, (33, 21))), field="f")
    assert (result.extension, result.mime_type) == FORMATS[fmt]
    assert (result.width, result.height) == (33, 21)


def test_an_animated_gif_is_checked_on_its_first_frame():
    from PIL import Image

    frames = [Image.new("P", (20, 10), i) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    assert check_image(buf, field="f").mime_type == "image/gif"


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_a_tiff_with_a_lying_magic_is_corrupt():
    data = b"II*\x00" + image_bytes("PNG")[4:]
    with pytest.raises(InvalidImage, match="truncated or corrupt"):
        check_image(io.BytesIO(data), field="f")


def test_a_real_heic_is_decoded_and_sized(tmp_path):
    data = heif_enc(photo_like(160, 120), tmp_path / "p.heic").read_bytes()
    result = check_image(io.BytesIO(data), field="f")
    assert (result.mime_type, result.extension, result.width, result.height) == ("image/heif", "heic", 160, 120)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(heif_bytes(4032, 3024), id="boxes-without-pixels"),
        pytest.param(heif_bytes(100, 100)[:120], id="box-past-the-end"),
    ],
)
def test_heif_that_the_vm_could_not_decode_is_refused(data):
    with pytest.raises(InvalidImage, match="truncated or corrupt"):
        check_image(io.BytesIO(data), field="f")


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("C:\\Users\\me\\photo.JPG", "photo.JPG"),
        ("bad\x00name<>.png", "bad_name_.png"),
        ("  .hidden.  ", "hidden"),
        ("é" * 400 + ".jpg", ("é" * 400 + ".jpg")[-255:]),
        (None, ""),
    ],
)
def test_original_names_are_cleaned_for_storage(name, clean):
    assert original_name_clean(name) == clean
