"""The upload gate: every check an uploaded image passes before anything is written.

In the order a request meets them (the first two in ``intake/multipart.py``):

1. **Size** (``intake.multipart.SizeLimitUploadHandler``, first in ``FILE_UPLOAD_HANDLERS``):
   at most ``MAX_UPLOAD_BYTES`` per file, counted while the body is read, 413 past it. Django's
   ``FILE_UPLOAD_MAX_MEMORY_SIZE`` only decides between memory and a temp file; it caps nothing.
   The handler stops the parse the moment one file passes the limit, so an oversized body is
   never spooled to disk.
2. **Fields** (``intake.multipart.upload_fields_check``): only the upload fields of
   ``shared.data_types``, one file each.
3. **Content** (:func:`upload_check` -> :func:`check_image`): judged by its bytes only, never
   its name or Content-Type. The magic bytes pick the type (and with it the file extension,
   ``shared.naming.ACCEPTED_TYPES``); files that also carry active content (polyglots) are
   refused (:func:`_refuse_polyglots`: the raw bytes, and every PNG text chunk decoded, see
   below); then the media VM's own judging code (``media_vm.imaging.judging.verdict``, libvips
   and, for HEIC, libheif) reads the header (loader allow-list, ``MAX_IMAGE_PIXELS``,
   ``MAX_IMAGE_FRAMES``, a JPEG's scans against ``MAX_JPEG_SCANS``) and decodes the first page as
   the VM will. Its verdict is a value (accepted with a size and type, or refused with a reason
   and a limit), worded here; no exception of the VM crosses into the main API. One verdict, made once:
   the gate accepts exactly what the VM can turn into variants, damaged-but-decodable files
   (a bad CRC on an ancillary PNG chunk, megabytes of compressed XMP) included, and refuses
   what the VM would fail (an HEIC it cannot decode, a truncated file).
4. **Start-up**: :func:`check_image_codecs` (a system check) proves libvips enforces the
   loader allow-list and that an HEVC decoder is there for HEIC. pyvips is imported on the
   first upload, never at start-up (libvips' threads do not survive a ``fork()``).

**The polyglot rule.** An original is stored byte for byte and only ever sent to its owner and
to the media VM (``/temp_images/``, with ``nosniff``, ``Content-Disposition: attachment`` and a
``Content-Security-Policy`` that runs nothing): that is what guarantees no browser runs what an
image carries. The filter is the second line: it refuses files where markup is plainly
written, so a file never stored can never be mis-served. It reads the raw bytes (any format:
comments, trailing data) for :data:`ACTIVE_CONTENT_MARKERS`, and in a PNG every text chunk,
``tEXt``, ``zTXt`` and ``iTXt``, decompressed where it is compressed, for those markers and
for HTML markup (:data:`MARKUP_IN_TEXT`: a tag, an event handler, a ``javascript:`` URL).
XMP packets (``iTXt`` "XML:com.adobe.xmp") are XML by design, read by no browser, and left
out. Pixel data is never read as text: compressed pixels hold any short string by chance.

Every refusal is an :class:`~main_api.common.exceptions.InvalidImage` (400) or
:class:`~main_api.common.exceptions.UploadTooLarge` (413) whose ``extra["field"]`` names the
form field.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core import checks

from main_api.common.exceptions import InvalidImage
from main_api.media import errors
from shared.data_types import ALL_UPLOAD_FIELDS, DataType
from shared.naming import ACCEPTED_TYPES

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
    #: SHA-256 of the file's bytes, hex.
    sha256: str


#: Media types browsers and tools send for the types we take, and the one of ``ACCEPTED_TYPES``
#: each means (an iPhone's ``.heic`` is ``image/heic`` to a browser; Windows sends ``image/pjpeg``).
CONTENT_TYPE_ALIASES: dict[str, str] = {
    "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png", "image/tif": "image/tiff",
    "image/heic": "image/heif", "image/heic-sequence": "image/heif", "image/heif-sequence": "image/heif",
    "image/avif-sequence": "image/avif",
}


def declared_content_type(value: str | None) -> str | None:
    """The accepted type (``shared.naming.ACCEPTED_TYPES``) a client's declared media type means:
    case and parameters ignored (``Image/JPEG; charset=x``), :data:`CONTENT_TYPE_ALIASES` mapped;
    None for anything else. Only a declaration: the bytes are judged by content later."""
    base = (value or "").split(";", 1)[0].strip().lower()
    base = CONTENT_TYPE_ALIASES.get(base, base)
    return base if base in ACCEPTED_TYPES else None


def original_name_clean(name: str | None) -> str:
    """The client's file name made safe to store and show: no folders, no control
    characters, at most 255 characters. It is never used to build a path."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    base = _NAME_JUNK.sub("_", base).strip(" .")
    return base[-255:]


def upload_check(*, field: str, file: IO[bytes], name: str | None = None, sha256: str | None = None) -> CheckedUpload:
    """Validate one upload of form field ``field`` (one of ``ALL_UPLOAD_FIELDS``: the fields of
    ``PATCH /users/me`` and ``artwork``, the image of ``POST /api/artworks``) by its content.
    ``sha256``: the digest :class:`SizeLimitUploadHandler` computed while the file streamed in;
    when None (a file that did not come through it) it is computed here.

    Raises :class:`InvalidImage` naming ``field`` (see :func:`check_image`).
    """
    image = check_image(file, field=field)
    if sha256 is None:
        file.seek(0)
        sha256 = hashlib.file_digest(file, "sha256").hexdigest()  # type: ignore[arg-type]
        file.seek(0)
    return CheckedUpload(
        field=field,
        data_type=ALL_UPLOAD_FIELDS[field],
        file=file,
        original_name=original_name_clean(name),
        image=image,
        sha256=sha256,
    )


def uploads_check(files: Mapping[str, Any], digests: Mapping[str, str] | None = None) -> list[CheckedUpload]:
    """:func:`upload_check` for each ``{field: uploaded file}``, in order; the first refusal
    raises. ``digests``: ``{field: SHA-256 hex}`` as the upload handler left them on the request."""
    digests = digests or {}
    return [
        upload_check(field=field, file=file, name=getattr(file, "name", None), sha256=digests.get(field))
        for field, file in files.items()
    ]


AVIF_BRANDS = frozenset({b"avif", b"avis"})
HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
SNIFF_BYTES = 64

#: Byte strings that mark active content a browser, PHP or ImageMagick would run if an
#: image were ever taken for something else (polyglots). None of them belongs in an image;
#: each is long enough that compressed pixel data, read case-blind, holds one by chance in
#: about one 5 MB upload in 7 000 (the 5-byte ones dominate; shorter markers would be common).
ACTIVE_CONTENT_MARKERS: tuple[bytes, ...] = (
    b"<?php", b"<script", b"<html", b"<!doctype", b"<svg ", b"<svg\n", b"<svg\t", b"<svg/", b"<iframe",
    b"javascript:", b"push graphic-context", b"viewbox", b"<image", b"<?xml-stylesheet",
    b"onerror=", b"onload=",  # 7-8 bytes: rarer by chance than the 5-byte ones above
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
#: The keyword of an XMP packet in a PNG text chunk: XML by design, never rendered, left out.
XMP_KEYWORD = b"XML:com.adobe.xmp"
#: HTML markup in a PNG text chunk (case-blind): a tag as a browser's tokenizer opens one
#: (``<svg/``, ``<img ``, ``</``, ``<!``, ``<?``), an event handler inside anything tag-like
#: (``<x:y onfocus=``), or a script URL. Text chunks hold plain text (titles, comments, prompts);
#: ``<lora:name:0.8>`` in a Stable Diffusion prompt is not a tag by this rule and passes.
MARKUP_IN_TEXT = re.compile(
    rb"<[a-z][a-z0-9-]*[\s/>]|</[a-z]|<!|<\?|<[^<>]*\bon[a-z]+\s*=|(?:java|vb)script\s*:", re.IGNORECASE
)
#: Most bytes the PNG text chunks of one upload may decompress to (XMP left out): a zlib bomb in a
#: zTXt is refused before it costs more.
MAX_PNG_TEXT_BYTES = 8 * 1024 * 1024
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
    """Sniff and judge ``file``; raise :class:`InvalidImage` naming ``field`` if it is unfit.

    The file position is left at the start.
    """
    file.seek(0)
    data = file.read()
    file.seek(0)
    if not data:
        raise InvalidImage(errors.FILE_EMPTY.message, {"field": field})
    mime_type = sniff_mime_type(data[:SNIFF_BYTES])
    if mime_type is None:
        raise InvalidImage(
            errors.NOT_AN_IMAGE.message,
            {"field": field, "accepted": sorted(ACCEPTED_TYPES)},
        )
    _refuse_polyglots(data, field)
    width, height, judged = _judge(data, field)
    if judged != mime_type and {judged, mime_type} != {"image/avif", "image/heif"}:
        # libvips sniffed another format than the magic bytes say: not a file to trust
        raise InvalidImage(errors.IMAGE_CORRUPT.message, {"field": field})
    # an ISO-BMFF file is AVIF or HEIC by its coded pixels, whatever brands its ftyp lists
    return SniffedImage(judged, ACCEPTED_TYPES[judged], width, height)


def _refuse_polyglots(data: bytes, field: str) -> None:
    """Refuse an image that also carries HTML, script, PHP, MVG/MSL or a ZIP archive, in its raw
    bytes or, for a PNG, in any text chunk once decompressed (the module doc's polyglot rule)."""
    lowered = data.lower()
    found = next((m for m in ACTIVE_CONTENT_MARKERS if m in lowered), None)
    if found is None and ZIP_EOCD in data[-ZIP_TAIL_BYTES:]:
        found = b"a ZIP archive"
    if found is not None:
        raise InvalidImage(
            errors.IMAGE_POLYGLOT.message,
            {"field": field, "found": found.decode("ascii")},
        )
    if data.startswith(PNG_SIGNATURE):
        _refuse_markup_in_png_text(data, field)


def png_text_chunks(data: bytes) -> Iterator[tuple[bytes, bytes, bytes]]:
    """``(chunk type, keyword, text)`` of every ``tEXt``, ``zTXt`` and ``iTXt`` chunk of the PNG
    ``data``, compressed text decompressed, XMP packets (:data:`XMP_KEYWORD`) left out.

    A chunk walk over the whole file (CRCs are not checked: the gate accepts a bad CRC on an
    ancillary chunk, as libvips does); it stops at ``IEND`` or where the file is cut short.
    The text of a damaged compressed chunk is what decompresses before the damage. Raises
    :class:`ValueError` when the text decompresses to more than :data:`MAX_PNG_TEXT_BYTES` in all.
    """
    budget = MAX_PNG_TEXT_BYTES
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IEND":
            return
        if kind not in PNG_TEXT_CHUNKS:
            continue
        keyword, _, rest = body.partition(b"\x00")
        if keyword == XMP_KEYWORD:
            continue
        if kind == b"tEXt":
            text = rest
        elif kind == b"zTXt":  # compression method (0: zlib), then the compressed text
            text = _inflate(rest[1:], budget)
        else:  # iTXt: compressed flag, method, language tag \0, translated keyword \0, text
            compressed, rest = rest[:1] == b"\x01", rest[2:]
            language, _, rest = rest.partition(b"\x00")
            translated, _, rest = rest.partition(b"\x00")
            text = language + b"\x00" + translated + b"\x00" + (_inflate(rest, budget) if compressed else rest)
        budget -= len(text)
        if budget < 0:
            raise ValueError(f"PNG text chunks decompress to more than {MAX_PNG_TEXT_BYTES} bytes")
        yield kind, keyword, text


def _inflate(compressed: bytes, budget: int) -> bytes:
    """At most ``budget + 1`` bytes of zlib-compressed ``compressed`` (what precedes any damage)."""
    limit = max(budget, 0) + 1
    inflater = zlib.decompressobj()
    out = bytearray()
    for start in range(0, len(compressed), 16_384):  # in pieces, so damage keeps what came before
        try:
            out += inflater.decompress(compressed[start : start + 16_384], limit - len(out))
        except zlib.error:
            break
        if len(out) >= limit or inflater.eof:
            break
    return bytes(out)


def _refuse_markup_in_png_text(data: bytes, field: str) -> None:
    try:
        chunks = list(png_text_chunks(data))
    except ValueError as e:
        raise InvalidImage(errors.IMAGE_TEXT_TOO_LARGE.message.format(reason=e),
                           {"field": field, "max_text_bytes": MAX_PNG_TEXT_BYTES}) from e
    for kind, keyword, text in chunks:
        lowered = text.lower()
        marker = next((m for m in ACTIVE_CONTENT_MARKERS if m in lowered), None)
        match = MARKUP_IN_TEXT.search(text) if marker is None else None
        if marker is not None or match is not None:
            found = marker if marker is not None else match.group(0)[:40]  # type: ignore[union-attr]
            raise InvalidImage(
                errors.IMAGE_POLYGLOT.message,
                {"field": field, "found": found.decode("latin-1"), "chunk": kind.decode("ascii"),
                 "keyword": keyword[:79].decode("latin-1")},
            )


def _judge(data: bytes, field: str) -> tuple[int, int, str]:
    """Width, height and mime type of ``data`` by the media VM's verdict (module doc, step 3);
    a refusal raises :class:`InvalidImage` naming ``field``: past ``MAX_IMAGE_PIXELS`` (``extra``:
    ``max_pixels``, ``width``, ``height``), past ``MAX_IMAGE_FRAMES`` (``max_frames``,
    ``frames``), a JPEG past ``MAX_JPEG_SCANS`` (``max_scans``), else "image is truncated or
    corrupt" (an unsupported format included)."""
    # imported here, not at start-up: see step 4
    from media_vm.imaging.judging import RefusalReason, Refused, verdict

    pixels, frames = int(settings.MAX_IMAGE_PIXELS), int(settings.MAX_IMAGE_FRAMES)
    scans = int(settings.MAX_JPEG_SCANS)
    judged = verdict(data, max_pixels=pixels, max_frames=frames, name=field, max_jpeg_scans=scans)
    if not isinstance(judged, Refused):
        return judged.width, judged.height, judged.mime_type
    if judged.reason is RefusalReason.PIXELS:
        raise InvalidImage(
            errors.IMAGE_TOO_MANY_PIXELS.message.format(width=judged.width, height=judged.height, limit=judged.limit),
            {"field": field, "max_pixels": judged.limit, "width": judged.width, "height": judged.height},
        )
    if judged.reason is RefusalReason.FRAMES:
        raise InvalidImage(
            errors.IMAGE_TOO_MANY_FRAMES.message.format(frames=judged.frames, limit=judged.limit),
            {"field": field, "max_frames": judged.limit, "frames": judged.frames},
        )
    if judged.reason is RefusalReason.SCANS:
        raise InvalidImage(
            errors.IMAGE_TOO_MANY_SCANS.message.format(limit=judged.limit),
            {"field": field, "max_scans": judged.limit},
        )
    if judged.reason is RefusalReason.NO_STILL_IMAGE:
        raise InvalidImage(
            errors.IMAGE_NO_STILL.message, {"field": field}
        )
    raise InvalidImage(errors.IMAGE_CORRUPT.message, {"field": field})


# --- 4. start-up -------------------------------------------------------------------------------


@checks.register(checks.Tags.compatibility)
def check_image_codecs(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """System check: libvips enforces the loader allow-list the upload gate judges with, and
    libheif has an HEVC decoder for HEIC (both come from wheels: pyvips-binary, pillow-heif)."""
    try:
        import pillow_heif

        from media_vm.imaging.security import configure_libvips

        configure_libvips()
        hevc = bool(pillow_heif.libheif_info().get("decoders"))
    except Exception as e:  # noqa: BLE001 - whatever fails here, uploads cannot be judged
        return [
            checks.Error(
                f"the upload gate cannot judge images: {e}",
                hint="Install the main API with its image extras: pip install '.[main-api]'.",
                id="main_api.E001",
            )
        ]
    if not hevc:
        return [
            checks.Error(
                "pillow-heif has no HEVC decoder: HEIC uploads would be refused.",
                hint="Install the pillow-heif wheel (it carries libheif with libde265).",
                id="main_api.E001",
            )
        ]
    return []
