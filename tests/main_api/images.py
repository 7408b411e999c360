"""Real images made with Pillow, and hand-made malformed ones, for the upload tests."""

from __future__ import annotations

import io
import itertools
import struct
import zlib

from PIL import Image

#: Pillow format name -> (extension the upload must get, mime type).
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
    "AVIF": ("avif", "image/avif"),
    "TIFF": ("tif", "image/tiff"),
}


_serials = itertools.count(1)


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), color=(200, 30, 90), *,
                serial: int | None = None) -> bytes:
    """An encoded image of ``size`` with a gradient, so it is not trivially compressible.

    Each call makes different bytes (a serial number is drawn into the bottom-right pixels),
    so that uploading it never counts as a duplicate of an earlier upload (the main API
    deduplicates by SHA-256); pass the same ``serial`` to make the same bytes twice."""
    im = Image.new("RGB", size, color)
    for x in range(0, size[0], 4):
        im.putpixel((x, x % size[1]), (x % 256, 255 - x % 256, 0))
    number = next(_serials) if serial is None else serial
    for bit in range(24):  # 24 pixels along the bottom row, black or white by the serial's bits
        x = size[0] - 1 - bit % size[0]
        y = size[1] - 1 - bit // size[0]
        im.putpixel((x, y), (255, 255, 255) if number >> bit & 1 else (0, 0, 0))
    buf = io.BytesIO()
    options = {"quality": 80} if fmt in ("JPEG", "WEBP", "AVIF") else {}
    if fmt == "AVIF":
        options["speed"] = 10
    im.save(buf, fmt, **options)
    return buf.getvalue()


def decoded_size(data: bytes) -> tuple[int, int]:
    """Width and height of an encoded image, decoded for real."""
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.size


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_pixel_bomb(width: int = 40_000, height: int = 40_000) -> bytes:
    """A tiny, valid-looking PNG whose header claims ``width`` x ``height`` pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def heif_bytes(width: int = 640, height: int = 480, *, brand: bytes = b"heic") -> bytes:
    """An ISO-BMFF HEIF skeleton: ``ftyp``, ``meta/iprp/ipco/ispe`` and an ``mdat``.

    It carries no decodable HEVC data: the upload only checks the boxes and dimensions.
    """
    ftyp = _box(b"ftyp", brand + b"\x00\x00\x00\x00" + b"mif1" + brand)
    ispe = _box(b"ispe", b"\x00\x00\x00\x00" + struct.pack(">II", width, height))
    thumb = _box(b"ispe", b"\x00\x00\x00\x00" + struct.pack(">II", 32, 24))
    ipco = _box(b"ipco", thumb + ispe)
    iprp = _box(b"iprp", ipco)
    hdlr = _box(b"hdlr", b"\x00" * 8 + b"pict" + b"\x00" * 13)
    meta = _box(b"meta", b"\x00\x00\x00\x00" + hdlr + iprp)
    return ftyp + meta + _box(b"mdat", b"\x00" * 64)
