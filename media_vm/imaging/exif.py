"""Camera facts from an image's EXIF: what took it, when, with which settings, and where.

libvips finds the EXIF block in the header of every format it loads (JPEG APP1, PNG eXIf, WebP,
HEIF/AVIF, TIFF) and hands it over unparsed (``exif-data``, in :class:`.loading.SourceInfo`);
Pillow's EXIF reader (``PIL.Image.Exif``) parses it. Nothing here reads bytes by hand.
"""

from __future__ import annotations

import logging
import math
import warnings
from datetime import datetime
from typing import Any

from PIL import ExifTags, Image

log = logging.getLogger(__name__)

#: The keys of ``exif`` in the analysis, in order; each is null when the file does not say.
EXIF_KEYS: tuple[str, ...] = (
    "camera_make", "camera_model", "lens", "taken_at", "exposure_time", "f_number", "iso", "focal_length_mm", "gps",
)

_T = ExifTags.Base


def empty_exif() -> dict[str, Any]:
    """Every key of :data:`EXIF_KEYS`, null."""
    return dict.fromkeys(EXIF_KEYS)


def read_exif(block: bytes | None) -> dict[str, Any]:
    """The camera facts of a raw EXIF block (as libvips gives ``exif-data``; ``None``: no EXIF).

    - ``camera_make``, ``camera_model``, ``lens``: Make, Model (IFD0) and LensModel (Exif IFD),
      stripped strings;
    - ``taken_at``: DateTimeOriginal as ISO 8601 (``2024-05-01T14:30:15``), with its
      OffsetTimeOriginal (``+02:00``) when the camera recorded one; EXIF has no zone otherwise, so
      the time is then the camera's local clock, without an offset;
    - ``exposure_time`` (seconds, e.g. 0.008 for 1/125), ``f_number`` (e.g. 2.8), ``iso``
      (PhotographicSensitivity, an int), ``focal_length_mm`` (FocalLength, mm, not 35 mm-equivalent);
    - ``gps``: ``{"lat", "lon"}`` in signed decimal degrees (WGS 84, south and west negative, 6
      decimals, about 0.1 m) from GPSLatitude/Longitude and their Ref; null unless both are there
      and in range.

    Each is null when absent or unreadable. An EXIF block Pillow cannot parse at all gives every key
    null (logged), never an error: a photo is not refused for its metadata.
    """
    facts = empty_exif()
    if not block:
        return facts
    exif = Image.Exif()
    try:
        with warnings.catch_warnings():  # "Corrupt EXIF data": what is readable is still returned
            warnings.simplefilter("ignore", UserWarning)
            exif.load(block)
            sub = dict(exif.get_ifd(ExifTags.IFD.Exif))
            gps = dict(exif.get_ifd(ExifTags.IFD.GPSInfo))
    except Exception as e:  # Pillow raises struct.error, ValueError, SyntaxError, ... on bad blocks
        log.info("unreadable EXIF block (%d bytes): %s", len(block), e)
        return facts
    facts["camera_make"] = _text(exif.get(_T.Make))
    facts["camera_model"] = _text(exif.get(_T.Model))
    facts["lens"] = _text(sub.get(_T.LensModel))
    facts["taken_at"] = _taken_at(sub.get(_T.DateTimeOriginal), sub.get(_T.OffsetTimeOriginal))
    facts["exposure_time"] = _number(sub.get(_T.ExposureTime), digits=6)
    facts["f_number"] = _number(sub.get(_T.FNumber), digits=2)
    iso = sub.get(_T.ISOSpeedRatings)
    iso = iso[0] if isinstance(iso, tuple) and iso else iso
    facts["iso"] = int(iso) if isinstance(iso, int) and iso > 0 else None
    facts["focal_length_mm"] = _number(sub.get(_T.FocalLength), digits=2)
    facts["gps"] = _gps(gps)
    return facts


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value[:200] or None


def _number(value: Any, *, digits: int) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return round(number, digits) if math.isfinite(number) and number > 0 else None


def _taken_at(value: Any, offset: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    try:
        taken = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    zone = _text(offset)
    if zone is not None:
        try:
            return datetime.fromisoformat(taken.isoformat() + zone).isoformat()
        except ValueError:
            pass
    return taken.isoformat()


def _degrees(value: Any, ref: Any, negative: str) -> float | None:
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    try:
        degrees, minutes, seconds = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not all(math.isfinite(v) for v in (degrees, minutes, seconds)):
        return None
    decimal = degrees + minutes / 60 + seconds / 3600
    return -decimal if _text(ref) == negative else decimal


def _gps(gps: dict[int, Any]) -> dict[str, float] | None:
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "S")
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "W")
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return {"lat": round(lat, 6), "lon": round(lon, 6)}
