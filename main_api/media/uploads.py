"""The upload gate: every check an uploaded image passes before anything is written.

One module, in the order a request meets them:

1. **Size** (:class:`SizeLimitUploadHandler`, first in ``FILE_UPLOAD_HANDLERS``): at most
   ``MAX_UPLOAD_BYTES`` per file, counted while the body is read, 413 past it. Django's
   ``FILE_UPLOAD_MAX_MEMORY_SIZE`` only decides between memory and a temp file; it caps nothing.
   The handler stops the parse the moment one file passes the limit, so an oversized body is
   never spooled to disk.
2. **Fields** (:func:`upload_fields_check`): only the upload fields of ``shared.data_types``,
   one file each.
3. **Content** (:func:`upload_check` -> :func:`check_image`): judged by its bytes only, never
   its name or Content-Type. The magic bytes pick the type (and with it the file extension,
   ``shared.naming.ACCEPTED_TYPES``); files that also carry active content (polyglots) are
   refused; the pixel count (``MAX_IMAGE_PIXELS``) is checked from the header before any
   decoding, the frame count against ``MAX_IMAGE_FRAMES``; then Pillow decodes the image
   (JPEG cheaply at 1/8 scale) to prove it is whole.

   HEIF (HEVC-coded ``heic``/``heix``/``mif1`` files) is the exception: Pillow has no HEVC
   decoder, so such a file is accepted when its ISO-BMFF boxes parse and its ``ispe``
   property gives dimensions within the pixel limit; the media VM decodes it, or fails it.
4. **Start-up**: :func:`check_image_codecs` (a system check) proves Pillow decodes every
   accepted type (registered when ``MediaConfig.ready()`` imports this module), and
   :func:`pillow_configure`, called there too, makes Pillow's own decompression-bomb guard
   agree with ``MAX_IMAGE_PIXELS``.

Every refusal is an :class:`~main_api.common.exceptions.InvalidImage` (400) or
:class:`~main_api.common.exceptions.UploadTooLarge` (413) whose ``extra["field"]`` names the
form field.
"""

from __future__ import annotations

import re
import struct
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core import checks
from django.core.files.uploadhandler import FileUploadHandler
from PIL import Image, UnidentifiedImageError, features

from main_api.common.exceptions import ApplicationError, InvalidImage, UploadTooLarge
from shared.data_types import UPLOAD_FIELDS, DataType
from shared.naming import ACCEPTED_TYPES

# --- 1. size, while the body is read -----------------------------------------------------------

#: Room for the multipart framing and the text fields around the files.
FORM_OVERHEAD_BYTES = 1024 * 1024


def too_large(field: str | None, limit: int) -> UploadTooLarge:
    """The 413 error for ``field`` (None when the whole request is too large)."""
    return UploadTooLarge(
        f"file is larger than the limit of {limit} bytes",
        {"field": field, "max_bytes": limit},
    )


class SizeLimitUploadHandler(FileUploadHandler):
    """Counts the bytes of each uploaded file and raises :class:`UploadTooLarge` (413) past
    ``MAX_UPLOAD_BYTES``; a body that cannot fit within the per-file limits is refused unread."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.limit = int(settings.MAX_UPLOAD_BYTES)
        self.received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # A body that cannot fit within the per-file limits is refused before it is read.
        ceiling = self.limit * len(UPLOAD_FIELDS) + FORM_OVERHEAD_BYTES
        if content_length and content_length > ceiling:
            raise too_large(None, self.limit)
        return None

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise too_large(self.field_name, self.limit)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


# --- 2. fields ---------------------------------------------------------------------------------


def upload_fields_check(files: Any) -> dict[str, Any]:
    """The uploaded files by field (``files``: Django's ``request.FILES``, a ``MultiValueDict``).

    Raises :class:`ApplicationError` (400, ``extra["field"]``) for a field that is not one of
    ``UPLOAD_FIELDS`` or that carries more than one file.
    """
    for field in files:
        if field not in UPLOAD_FIELDS:
            raise ApplicationError(
                f"unknown file field {field!r}", {"field": field, "accepted": sorted(UPLOAD_FIELDS)}
            )
        if len(files.getlist(field)) > 1:
            raise ApplicationError("one file per field", {"field": field})
    return {field: files[field] for field in files}


# --- 3. content --------------------------------------------------------------------------------

_NAME_JUNK = re.compile(r'[\x00-\x1f\x7f<>:"|?*]+')


@dataclass(frozen=True)
class SniffedImage:
    """What an accepted upload turned out to be."""

    mime_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class CheckedUpload:
    """An uploaded file that passed :func:`upload_check`, ready to be written."""

    field: str
    data_type: DataType
    file: IO[bytes]
    original_name: str
    image: SniffedImage


def original_name_clean(name: str | None) -> str:
    """The client's file name made safe to store and show: no folders, no control
    characters, at most 255 characters. It is never used to build a path."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    base = _NAME_JUNK.sub("_", base).strip(" .")
    return base[-255:]


def upload_check(*, field: str, file: IO[bytes], name: str | None = None) -> CheckedUpload:
    """Validate one upload of form field ``field`` (one of ``UPLOAD_FIELDS``) by its content.

    Raises :class:`InvalidImage` naming ``field`` (see :func:`check_image`).
    """
    image = check_image(file, field=field)
    return CheckedUpload(
        field=field,
        data_type=UPLOAD_FIELDS[field],
        file=file,
        original_name=original_name_clean(name),
        image=image,
    )


def uploads_check(files: Mapping[str, Any]) -> list[CheckedUpload]:
    """:func:`upload_check` for each ``{field: uploaded file}``, in order; the first refusal raises."""
    return [upload_check(field=field, file=file, name=getattr(file, "name", None)) for field, file in files.items()]


#: mime type -> Pillow's format name (``Image.open(formats=...)`` allowlist).
PILLOW_FORMATS: dict[str, str] = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/avif": "AVIF",
    "image/tiff": "TIFF",
}
AVIF_BRANDS = frozenset({b"avif", b"avis"})
HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
SNIFF_BYTES = 64

#: Byte strings that mark active content a browser, PHP or ImageMagick would run if an
#: image were ever taken for something else (polyglots). None of them belongs in an image;
#: each is long enough that compressed pixel data, read case-blind, holds one by chance in
#: about one 5 MB upload in 7 000 (the 5-byte ones dominate; shorter markers would be common).
ACTIVE_CONTENT_MARKERS: tuple[bytes, ...] = (
    b"<?php", b"<script", b"<html", b"<!doctype", b"<svg ", b"<svg\n", b"<svg\t", b"<iframe",
    b"javascript:", b"push graphic-context", b"viewbox", b"<image", b"<?xml-stylesheet",
)
#: A ZIP (or JAR, DOCX, ...) is found by its end-of-central-directory record near the end.
ZIP_EOCD = b"PK\x05\x06"
ZIP_TAIL_BYTES = 65_536 + 22


def sniff_mime_type(head: bytes) -> str | None:
    """The image type named by the first bytes of a file, or None if it is not one we take."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head[4:8] == b"ftyp":
        return _iso_bmff_type(head)
    return None


def _iso_bmff_type(head: bytes) -> str | None:
    size = struct.unpack(">I", head[:4])[0]
    if size < 16:
        return None
    # major brand, minor version, then compatible brands, all within the ftyp box
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
    if brands & AVIF_BRANDS:
        return "image/avif"
    if brands & HEIF_BRANDS:
        return "image/heif"
    return None


def check_image(file: IO[bytes], *, field: str) -> SniffedImage:
    """Sniff and decode ``file``; raise :class:`InvalidImage` naming ``field`` if it is unfit.

    The file position is left at the start.
    """
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    file.seek(0)
    if not head:
        raise InvalidImage("file is empty", {"field": field})
    mime_type = sniff_mime_type(head)
    if mime_type is None:
        raise InvalidImage(
            "not an accepted image type (JPEG, PNG, WebP, GIF, AVIF, HEIF, TIFF)",
            {"field": field, "accepted": sorted(ACCEPTED_TYPES)},
        )
    _refuse_polyglots(file, field)
    limit = int(settings.MAX_IMAGE_PIXELS)
    try:
        if mime_type in ("image/heif", "image/avif"):
            # the boxes give the size before any decoder runs (libavif itself gives up on
            # huge images with a vague error; the pixel limit deserves a clear one)
            try:
                width, height = heif_dimensions(file)
            except (ValueError, struct.error) as e:
                raise InvalidImage("image is truncated or corrupt", {"field": field}) from e
            _check_pixels(width, height, limit, field)
        if mime_type != "image/heif":
            width, height = _decode(file, mime_type, limit, field)
    finally:
        file.seek(0)
    return SniffedImage(mime_type, ACCEPTED_TYPES[mime_type], width, height)


def _refuse_polyglots(file: IO[bytes], field: str) -> None:
    """Refuse an image that also carries HTML, script, PHP, MVG/MSL or a ZIP archive."""
    file.seek(0)
    data = file.read()
    file.seek(0)
    lowered = data.lower()
    found = next((m for m in ACTIVE_CONTENT_MARKERS if m in lowered), None)
    if found is None and ZIP_EOCD in data[-ZIP_TAIL_BYTES:]:
        found = b"a ZIP archive"
    if found is not None:
        raise InvalidImage(
            "image carries active content (a polyglot file) and is refused",
            {"field": field, "found": found.decode("ascii")},
        )


def _check_pixels(width: int, height: int, limit: int, field: str) -> None:
    if width <= 0 or height <= 0:
        raise InvalidImage("image is truncated or corrupt", {"field": field})
    if width * height > limit:
        raise InvalidImage(
            f"image is {width}x{height}, over the limit of {limit} pixels",
            {"field": field, "max_pixels": limit, "width": width, "height": height},
        )


def _decode(file: IO[bytes], mime_type: str, limit: int, field: str) -> tuple[int, int]:
    corrupt = InvalidImage("image is truncated or corrupt", {"field": field})
    try:
        with Image.open(file, formats=[PILLOW_FORMATS[mime_type]]) as im:
            width, height = im.size
            _check_pixels(width, height, limit, field)
            if mime_type == "image/jpeg":
                # Decoding at 1/8 scale still reads every byte of the entropy-coded data,
                # so truncation shows, at a fraction of the cost.
                im.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            frames = int(getattr(im, "n_frames", 1))
            if frames > int(settings.MAX_IMAGE_FRAMES):
                raise InvalidImage(
                    f"animation has {frames} frames, over the limit of {settings.MAX_IMAGE_FRAMES}",
                    {"field": field, "max_frames": int(settings.MAX_IMAGE_FRAMES), "frames": frames},
                )
            im.seek(0)
            im.load()
    except Image.DecompressionBombError as e:
        raise InvalidImage(
            f"image is over the limit of {limit} pixels", {"field": field, "max_pixels": limit}
        ) from e
    except InvalidImage:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error) as e:
        raise corrupt from e
    except Exception as e:
        # Untrusted bytes can trip a decoder in odd ways (IndexError, ZeroDivisionError...);
        # whatever the decoder's complaint, the file is not an image we can take.
        raise corrupt from e
    return width, height


# --- HEIF: dimensions from the ISO-BMFF boxes -------------------------------------------------

#: Where the ``ispe`` (image spatial extents) properties live: box path -> (child to enter,
#: bytes of version/flags that open the child's body).
_PATH_TO_ISPE: dict[tuple[bytes, ...], tuple[bytes, int]] = {
    (): (b"meta", 4),
    (b"meta",): (b"iprp", 0),
    (b"meta", b"iprp"): (b"ipco", 0),
}
_IPCO_PATH = (b"meta", b"iprp", b"ipco")
_MAX_HEADER_BYTES = 1024 * 1024


def heif_dimensions(file: IO[bytes]) -> tuple[int, int]:
    """Width and height of the largest ``ispe`` property of a HEIF file (the primary image;
    thumbnails are smaller). Raises :class:`ValueError` when the boxes do not parse.
    """
    file.seek(0)
    data = file.read(_MAX_HEADER_BYTES)
    extents = list(_ispe_boxes(data, 0, len(data), ()))
    if not extents:
        raise ValueError("no ispe property in the HEIF meta box")
    return max(extents, key=lambda wh: wh[0] * wh[1])


def _ispe_boxes(data: bytes, start: int, end: int, path: tuple[bytes, ...]) -> Iterator[tuple[int, int]]:
    pos = start
    while pos + 8 <= end:
        size, box_type = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise ValueError("truncated box header")
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header:
            raise ValueError(f"bad size of box {box_type!r}")
        child = _PATH_TO_ISPE.get(path)
        wanted = (child is not None and box_type == child[0]) or (path == _IPCO_PATH and box_type == b"ispe")
        if pos + size > end:
            if wanted:
                raise ValueError(f"box {box_type!r} runs past the end of the file")
            return  # e.g. a large mdat after the meta box
        if path == _IPCO_PATH and box_type == b"ispe":
            body = data[pos + header : pos + size]
            if len(body) < 12:
                raise ValueError("short ispe box")
            yield struct.unpack(">II", body[4:12])
        elif child is not None and box_type == child[0]:
            yield from _ispe_boxes(data, pos + header + child[1], pos + size, path + (box_type,))
        pos += size


# --- 4. start-up -------------------------------------------------------------------------------


@checks.register(checks.Tags.compatibility)
def check_image_codecs(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """System check: Pillow must decode every type the upload accepts by content (HEIF excepted)."""
    missing = [codec for codec in ("jpg", "zlib", "webp", "avif", "libtiff") if not features.check(codec)]
    if missing:
        return [
            checks.Error(
                f"Pillow lacks the codecs {', '.join(missing)}; uploads of those types would be refused.",
                hint="Install a Pillow wheel built with them (pip install --force-reinstall pillow).",
                id="main_api.E001",
            )
        ]
    return []


def pillow_configure() -> None:
    """Make Pillow's own decompression-bomb guard agree with ours (it raises at twice the limit)."""
    Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS
