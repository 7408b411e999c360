"""The content checks behind the upload: magic bytes, decoding, HEIF boxes."""

from __future__ import annotations

import io

import pytest

from main_api.common.exceptions import InvalidImage
from main_api.media.uploads import check_image, heif_dimensions, original_name_clean, sniff_mime_type
from tests.main_api.images import FORMATS, heif_bytes, image_bytes


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


def test_heif_dimensions_take_the_largest_extent():
    assert heif_dimensions(io.BytesIO(heif_bytes(4032, 3024))) == (4032, 3024)


def test_heif_with_a_box_running_past_the_end_is_corrupt():
    data = heif_bytes(100, 100)
    meta_at = data.index(b"meta") - 4
    with pytest.raises(ValueError):
        heif_dimensions(io.BytesIO(data[: meta_at + 30]))


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
