"""Animated AVIF (an AV1 image sequence, brand ``avis``): its frame count and first frame.

libvips' ``heifload`` does not open a file whose major brand is ``avis`` (what ``avifenc`` with
several inputs, ffmpeg and GIF-to-AVIF converters write): its sniffer answers "not in a known
format". libheif (pillow-heif) reads only a sequence's primary still item, when it has one, and
cannot count the frames. libavif reads the track itself: Pillow's AVIF plugin (Pillow >= 11.3,
already a dependency of both services for EXIF; its wheels carry libavif with dav1d) gives the
frame count and decodes any frame, so a sequence is judged as animated GIF and WebP are: its
frames counted against ``max_frames``, its first frame made into the variants.

A sequence libavif cannot parse (a damaged or non-conforming track) is refused with
:class:`~media_vm.exceptions.NoStillImage`, which says so, never "corrupt": the file may be a
fine animation another player shows, but it holds nothing this host can make a still from.

One repair is made before giving up: an ``auxl`` item reference (ISO/IEC 14496-12 8.11.12)
whose target names no item at all, where the file has a primary item. link-u's
``star-8bpc-with-alpha.avifs`` points its alpha item at item 0 (its items are 3 and 4, ``pitm``
4); libavif >= 1.0 refuses the whole file for it ("BMFF parsing failed") and libheif too ("Non-
existing alpha image referenced"), while avifdec 0.11 shows it. A copy with that one target set
to the primary item is parsed with all of libavif's checks; nothing else is rewritten.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np
import pyvips

from media_vm.exceptions import NoStillImage
from media_vm.imaging import avif_range

#: The ``SourceInfo.loader`` of a sequence decoded here (libvips has no loader for it).
LOADER = "avifsequence"
#: ISO-BMFF brands of an AV1 image sequence (AV1 Image File Format, section 8.2 "avis").
SEQUENCE_BRANDS = frozenset({b"avis"})


@dataclass(frozen=True)
class SequenceHeader:
    """What libavif says about a sequence before a frame is decoded."""

    width: int
    height: int
    frames: int


def is_avif_sequence(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file, 64 are enough) is an ISO-BMFF ``ftyp`` whose
    major or compatible brands name ``avis``."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return False
    size = struct.unpack(">I", head[:4])[0]
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
    return bool(brands & SEQUENCE_BRANDS)


def read_header(data: bytes, name: str) -> SequenceHeader:
    """Size and frame count of the sequence ``data``; raises :class:`NoStillImage` when libavif
    cannot parse it."""
    with _open(data, name) as image:
        return SequenceHeader(width=image.width, height=image.height, frames=int(getattr(image, "n_frames", 1)))


def first_frame(data: bytes, name: str) -> pyvips.Image:
    """The first frame of the sequence ``data`` as an 8-bit sRGB-tagged libvips image (grey, RGB,
    or with alpha), its ICC profile attached when it has one; ``irot``/``imir`` applied (libavif
    reports them as an orientation, which Pillow's ``exif_transpose`` applies)."""
    from PIL import ImageOps

    with _open(data, name) as image:
        try:
            image.seek(0)
            frame = ImageOps.exif_transpose(image)
            if frame.mode not in ("L", "LA", "RGB", "RGBA"):
                frame = frame.convert("RGBA" if "A" in frame.mode else "RGB")
            pixels = np.asarray(frame)
        except (OSError, ValueError, SyntaxError) as e:
            raise NoStillImage(f"{name}: AVIF image sequence: its first frame cannot be decoded ({e})") from e
        icc = image.info.get("icc_profile")
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    out = pyvips.Image.new_from_array(np.ascontiguousarray(pixels))
    out = out.copy(interpretation="b-w" if pixels.shape[2] <= 2 else "srgb")
    if icc:
        out.set_type(pyvips.GValue.blob_type, "icc-profile-data", bytes(icc))
    return out


def _open(data: bytes, name: str):  # noqa: ANN202 - a PIL image, imported lazily
    from PIL import AvifImagePlugin

    if not AvifImagePlugin.SUPPORTED:
        raise NoStillImage(f"{name}: AVIF image sequences are not accepted on this host (Pillow has no libavif)")
    try:
        # the plugin's class, not Image.open: Image.open hides libavif's reason behind "cannot identify"
        return AvifImagePlugin.AvifImageFile(io.BytesIO(data))
    except (OSError, ValueError, SyntaxError) as e:
        repaired = alpha_on_primary(data)
        if repaired is not None:
            try:
                return AvifImagePlugin.AvifImageFile(io.BytesIO(repaired))
            except (OSError, ValueError, SyntaxError):
                pass
        raise NoStillImage(
            f"{name}: AVIF image sequence with no still image or first frame that can be decoded ({e})"
        ) from e


def alpha_on_primary(data: bytes) -> bytes | None:
    """A copy of ``data`` whose ``auxl`` references to no existing item name the primary item
    instead (see the module doc); ``None`` when there is none to repair or the boxes cannot be
    followed."""
    view = memoryview(data)
    try:
        meta = next((span for kind, span in avif_range.boxes(view, 0, len(view)) if kind == b"meta"), None)
        if meta is None:
            return None
        children = dict(avif_range.boxes(view, meta[0] + 4, meta[1]))  # meta is a FullBox
        if not {b"pitm", b"iinf", b"iref"} <= children.keys():
            return None
        pitm, iinf, iref = children[b"pitm"], children[b"iinf"], children[b"iref"]
        wide = view[iref[0]] != 0  # iref version 1: 32-bit item IDs
        if wide or view[pitm[0]] != 0 or view[iinf[0]] != 0:
            return None  # the repair is only for 16-bit IDs, as the files that need it have
        primary = struct.unpack_from(">H", view, pitm[0] + 4)[0]
        items = {
            struct.unpack_from(">H", view, s + 4)[0]
            for kind, (s, _) in avif_range.boxes(view, iinf[0] + 6, iinf[1])  # iinf v0: 16-bit count
            if kind == b"infe" and view[s] == 2  # infe v2: 16-bit item_ID
        }
        out = bytearray(data)
        for kind, (s, e) in avif_range.boxes(view, iref[0] + 4, iref[1]):
            if kind != b"auxl" or e - s < 6:
                continue
            source, count = struct.unpack_from(">HH", view, s)
            if source not in items or s + 4 + 2 * count > e:
                return None
            for i in range(count):
                if struct.unpack_from(">H", view, s + 4 + 2 * i)[0] not in items:
                    struct.pack_into(">H", out, s + 4 + 2 * i, primary)
        return bytes(out) if out != data and primary in items else None
    except (ValueError, IndexError, struct.error):
        return None
