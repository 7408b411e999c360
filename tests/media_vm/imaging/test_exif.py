"""EXIF: a JPEG written with every field (by Pillow's writer), read back by the analysis through
libvips' exif-data; libvips' own parse (libexif, the exif-ifd* header fields) confirms the file."""

from __future__ import annotations

import pytest
import pyvips
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

from media_vm.imaging import analyse_file
from media_vm.imaging.exif import EXIF_KEYS, read_exif
from tests.helpers.images import photo_jpeg, solid_png


def camera_jpeg(path, *, south_west: bool = False, offset: str | None = "+02:00"):
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Model] = "Canon EOS R5"
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.LensModel] = "RF24-105mm F4 L IS USM"
    sub[ExifTags.Base.DateTimeOriginal] = "2024:05:01 14:30:15"
    if offset:
        sub[ExifTags.Base.OffsetTimeOriginal] = offset
    sub[ExifTags.Base.ExposureTime] = IFDRational(1, 125)
    sub[ExifTags.Base.FNumber] = IFDRational(28, 10)
    sub[ExifTags.Base.ISOSpeedRatings] = 400
    sub[ExifTags.Base.FocalLength] = IFDRational(50, 1)
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S" if south_west else "N"
    gps[ExifTags.GPS.GPSLatitude] = (IFDRational(48, 1), IFDRational(51, 1), IFDRational(2448, 100))
    gps[ExifTags.GPS.GPSLongitudeRef] = "W" if south_west else "E"
    gps[ExifTags.GPS.GPSLongitude] = (IFDRational(2, 1), IFDRational(17, 1), IFDRational(4008, 100))
    Image.new("RGB", (320, 240), (120, 140, 160)).save(path, exif=exif, quality=90)
    return path


def test_every_field_of_a_camera_jpeg(tmp_path):
    path = camera_jpeg(tmp_path / "camera.jpg")
    header = pyvips.Image.new_from_file(str(path))  # libexif's reading of the same file
    assert str(header.get("exif-ifd2-ExposureTime")).startswith("1/125 ")
    assert str(header.get("exif-ifd3-GPSLatitude")).startswith("48/1 51/1 ")
    exif = analyse_file(path, data_type="product", tesseract_cmd=None)["exif"]
    assert exif == {
        "camera_make": "Canon",
        "camera_model": "Canon EOS R5",
        "lens": "RF24-105mm F4 L IS USM",
        "taken_at": "2024-05-01T14:30:15+02:00",
        "exposure_time": 0.008,
        "f_number": 2.8,
        "iso": 400,
        "focal_length_mm": 50.0,
        # 48 + 51/60 + 24.48/3600 N, 2 + 17/60 + 40.08/3600 E (the Eiffel tower)
        "gps": {"lat": 48.8568, "lon": 2.294467},
    }


def test_south_and_west_are_negative_and_a_time_without_offset_has_none(tmp_path):
    exif = analyse_file(camera_jpeg(tmp_path / "sw.jpg", south_west=True, offset=None), data_type="product",
                        tesseract_cmd=None)["exif"]
    assert exif["gps"] == {"lat": -48.8568, "lon": -2.294467}
    assert exif["taken_at"] == "2024-05-01T14:30:15"


@pytest.mark.parametrize("maker", [lambda p: photo_jpeg(p / "plain.jpg", 200, 150),
                                   lambda p: solid_png(p / "plain.png", (1, 2, 3))])
def test_no_exif_gives_every_key_null(tmp_path, maker):
    exif = analyse_file(maker(tmp_path), data_type="product", tesseract_cmd=None)["exif"]
    assert list(exif) == list(EXIF_KEYS) and set(exif.values()) == {None}


def test_a_broken_block_gives_nulls_not_an_error():
    assert set(read_exif(b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff").values()) == {None}
    assert set(read_exif(None).values()) == {None}


def test_an_out_of_range_position_is_dropped(tmp_path):
    path = camera_jpeg(tmp_path / "camera.jpg")
    with Image.open(path) as image:
        exif = image.getexif()
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = (
        IFDRational(148, 1), IFDRational(0, 1), IFDRational(0, 1))
    Image.new("RGB", (32, 32)).save(tmp_path / "bad.jpg", exif=exif)
    facts = analyse_file(tmp_path / "bad.jpg", data_type="product", tesseract_cmd=None)["exif"]
    assert facts["gps"] is None and facts["camera_make"] == "Canon"
