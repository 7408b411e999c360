"""What a file says about its colour outside an ICC profile, read from its header.

- **PNG** (PNG specification, 3rd edition, W3C 2025, sections 11.3.2-11.3.3): the chunks before
  the first ``IDAT``. Their precedence is the spec's (4.3 "colour spaces"), except that an
  ICC profile (``iCCP``, applied by libvips; :func:`.loading.probe` does not ask here then)
  beats ``cICP``: ``cICP``, then ``sRGB`` (nothing to do), then ``gAMA`` and ``cHRM`` (each
  alone or together: a missing ``gAMA`` means the sRGB curve, a missing ``cHRM`` sRGB's
  primaries).
- **AVIF/HEIF**: the primary item's ``colr`` property of type ``nclx`` (CICP codes, ITU-T
  H.273) when it has no ICC profile (``prof``/``rICC``), read through libheif (pillow-heif),
  which resolves which property belongs to the primary image.

Both return a :class:`~.colour_space.ColourSignal`, or ``None`` when the file is sRGB or says
nothing (then it is sRGB, as a browser takes it).
"""

from __future__ import annotations

import io
import logging
import struct
from typing import IO, Any

from media_vm.imaging.colour_space import ColourSignal, cicp_signal

logger = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Chunks before IDAT are walked up to this many (a PNG has a handful; stops a hostile loop).
_MAX_PNG_CHUNKS = 1000


def png_colour_signal(stream: IO[bytes]) -> ColourSignal | None:
    """The colour a PNG signals in its ``cICP``, ``sRGB``, ``gAMA`` and ``cHRM`` chunks, or
    ``None`` (sRGB, an ICC profile, or nothing said). Damaged or absurd chunks are ignored, as
    decoders do with ancillary chunks; ``stream`` is read from its start."""
    stream.seek(0)
    if stream.read(8) != PNG_SIGNATURE:
        return None
    found: dict[bytes, bytes] = {}
    for _ in range(_MAX_PNG_CHUNKS):
        head = stream.read(8)
        if len(head) < 8:
            break
        length, kind = struct.unpack(">I4s", head)
        if kind in (b"IDAT", b"IEND"):
            break
        if kind in (b"cICP", b"iCCP", b"sRGB", b"gAMA", b"cHRM") and length <= 64 * 1024:
            found.setdefault(kind, stream.read(length))
            stream.seek(4, io.SEEK_CUR)  # CRC
        else:
            stream.seek(length + 4, io.SEEK_CUR)
    return _png_signal(found)


def _png_signal(chunks: dict[bytes, bytes]) -> ColourSignal | None:
    cicp = chunks.get(b"cICP", b"")
    if len(cicp) == 4 and cicp[2] == 0:  # matrix 0: RGB, as PNG must be
        return cicp_signal(cicp[0], cicp[1], origin=f"PNG cICP {cicp[0]}/{cicp[1]}")
    if b"iCCP" in chunks or b"sRGB" in chunks:
        return None
    gamma = chunks.get(b"gAMA", b"")
    chrm = chunks.get(b"cHRM", b"")
    exponent = None
    if len(gamma) == 4:
        value = struct.unpack(">I", gamma)[0] / 100_000
        if 0.05 <= value <= 20:  # 0 is invalid; beyond this range the chunk is nonsense
            exponent = 1 / value
    primaries = None
    if len(chrm) == 32:
        w_x, w_y, r_x, r_y, g_x, g_y, b_x, b_y = (v / 100_000 for v in struct.unpack(">8I", chrm))
        if all(0 < v < 1 for v in (w_x, w_y, r_x, r_y, g_x, g_y, b_x, b_y)):
            primaries = ((r_x, r_y), (g_x, g_y), (b_x, b_y), (w_x, w_y))
    if exponent is None and primaries is None:
        return None
    origin = "PNG " + " ".join(
        part for part, there in ((f"gAMA {1 / exponent:.5f}" if exponent else "", exponent), ("cHRM", primaries))
        if there
    )
    signal = ColourSignal("power" if exponent else "srgb", exponent or 0.0, primaries, origin)
    return None if signal.is_srgb else signal


def heif_colour_signal(stream: IO[bytes]) -> ColourSignal | None:
    """The CICP colour of a HEIF/AVIF file's primary image, ``None`` when it has an ICC profile
    (libvips applies it), no ``nclx`` box, or says sRGB. Needs pillow-heif; without it (or when
    libheif cannot parse the boxes, which the decode will then report) it is ``None``."""
    try:
        import pillow_heif
    except ImportError:  # pragma: no cover - pillow-heif is a dependency of both services
        logger.warning("pillow-heif is not installed: AVIF/HEIF CICP colour is ignored")
        return None
    stream.seek(0)
    try:
        info: dict[str, Any] = pillow_heif.open_heif(stream, convert_hdr_to_8bit=True).info
    except (ValueError, RuntimeError, OSError, SyntaxError):
        return None
    if info.get("icc_profile"):
        return None
    nclx = info.get("nclx_profile") or {}
    if "color_primaries" not in nclx:
        return None
    primaries, transfer = int(nclx["color_primaries"]), int(nclx["transfer_characteristics"])
    return cicp_signal(
        primaries, transfer, origin=f"CICP {primaries}/{transfer}/{nclx.get('matrix_coefficients', '?')}"
    )
