"""Limited-range ("studio swing") AVIF grey and alpha, expanded to full range as libavif does.

The bundled libheif expands limited-range YUV for colour images, but not in two cases (measured
against ``avifdec -d 16`` on link-u's samples and on ``avifenc --yuv 400 -r limited`` files):

- **monochrome** (``mono_chrome``, 4:0:0) images at any bit depth: the Y samples are passed
  through, so black is 16 (of 255) and white 235 and the picture looks washed out;
- **alpha** planes coded in limited range: transparent areas keep alpha 16, a 6 % veil.

Where a sample's range is said: for the colour, the primary item's ``colr`` ``nclx`` property
(``full_range_flag``, ISO/IEC 23091-2; libavif lets it override the bitstream) and otherwise the
AV1 sequence header's ``color_config.color_range`` (AV1 spec 5.5.2, 6.4.2); for the alpha, the
sequence header of the alpha auxiliary item (``auxl`` reference to the primary item, ``auxC``
``urn:mpeg:mpegB:cicp:systems:auxiliary:alpha``; AV1 Image File Format 4.). The sequence header
OBU (AV1 spec 5.5) is read from the ``av1C`` property's ``configOBUs`` (AV1-ISOBMFF 2.3.3) or,
when an encoder left them out (``avifenc`` 0.11 does), from the item's data located by ``iloc``
(ISO/IEC 14496-12 8.11.3).

:func:`limited_planes` reads that from the boxes without decoding; :func:`expand` maps the
decoded samples as libavif's ``avifLimitedToFullY`` does: ``(v - 16·2^(n-8)) / (219·2^(n-8))``,
clamped (ITU-T H.273 8.3, equations for ``VideoFullRangeFlag`` 0). The parser reads bytes only,
bounded in boxes and items; a file it cannot follow gets no expansion (libheif judges it).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import pyvips

#: Boxes walked at one level (a conforming file has a dozen); stops a hostile flood.
_MAX_BOXES = 256
#: Items, properties and associations read from ``iloc``/``ipco``/``ipma``/``iref``.
_MAX_ENTRIES = 4096
#: Bytes of an item's data searched for its sequence header OBU (it comes first).
_MAX_OBU_SCAN = 64 * 1024
_ALPHA_URN = b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"
_OBU_SEQUENCE_HEADER = 1


class _Malformed(ValueError):
    """The boxes cannot be followed: no expansion (never leaves this module)."""


@dataclass(frozen=True)
class LimitedPlanes:
    """Which decoded planes of an AVIF still hold limited-range samples after libheif."""

    grey: bool  #: a monochrome primary image in limited range
    alpha: bool  #: an alpha auxiliary image in limited range

    def __bool__(self) -> bool:
        return self.grey or self.alpha


@dataclass(frozen=True)
class SequenceHeader:
    """The part of an AV1 sequence header (AV1 spec 5.5) that says how to read the samples."""

    bit_depth: int
    mono_chrome: bool
    full_range: bool


def limited_planes(data: bytes) -> LimitedPlanes:
    """Which planes of the AVIF still image ``data`` need :func:`expand` (see the module doc);
    nothing for a file whose boxes cannot be followed."""
    try:
        return _limited_planes(memoryview(data))
    except (_Malformed, struct.error, IndexError, ValueError):
        return LimitedPlanes(grey=False, alpha=False)


def expand(image: pyvips.Image, planes: LimitedPlanes) -> pyvips.Image:
    """``image`` (as libvips' ``heifload`` decodes it: 8-bit ``uchar``, or deeper samples
    shifted into ``ushort``, with alpha last when it has one) with the ``planes`` that are in
    limited range mapped to full range. Limited black and white are 16 and 235 scaled by the
    bit depth (AV1 spec 6.4.2, H.273 8.3), which after heifload's shift is 16·256 and 235·256
    whatever the depth."""
    if image.format not in ("uchar", "ushort"):
        raise ValueError(f"expand takes heifload's uchar or ushort samples, got {image.format}")
    unit = 1 if image.format == "uchar" else 256
    top = 255 if image.format == "uchar" else 65535
    scale = top / (219 * unit)
    has_alpha = image.bands in (2, 4)
    colour_bands = image.bands - 1 if has_alpha else image.bands
    wanted = [planes.grey] * colour_bands + ([planes.alpha] if has_alpha else [])
    if not any(wanted):
        return image
    a = [scale if on else 1.0 for on in wanted]
    b = [0.5 - 16 * unit * scale if on else 0.0 for on in wanted]  # +0.5: cast truncates
    # cast clamps to the format's range: below black is 0, above white the top
    return image.linear(a, b).cast(image.format).copy(interpretation=image.interpretation)


def _limited_planes(data: memoryview) -> LimitedPlanes:
    meta = _child(data, 0, len(data), b"meta")
    if meta is None:
        return LimitedPlanes(grey=False, alpha=False)
    start, end = meta[0] + 4, meta[1]  # FullBox
    children = dict(boxes(data, start, end))
    if b"pitm" not in children or b"iprp" not in children:
        return LimitedPlanes(grey=False, alpha=False)
    primary = _pitm(data, *children[b"pitm"])
    properties, associations = _iprp(data, *children[b"iprp"])
    locations = _iloc(data, *children[b"iloc"]) if b"iloc" in children else {}
    alpha_item = None
    for item in _auxiliaries(data, *children[b"iref"]) if b"iref" in children else []:
        if item[1] == primary and any(
            kind == b"auxC" and _aux_type(data, *span) == _ALPHA_URN
            for kind, span in _item_properties(item[0], properties, associations)
        ):
            alpha_item = item[0]
            break
    colour = _sequence_header(data, primary, properties, associations, locations)
    grey = False
    if colour is not None and colour.mono_chrome:
        full = colour.full_range
        for kind, span in _item_properties(primary, properties, associations):
            nclx = _nclx_full_range(data, *span) if kind == b"colr" else None
            if nclx is not None:
                full = nclx  # libavif: the colr nclx box overrides the bitstream's range
        grey = not full
    alpha = False
    if alpha_item is not None:
        header = _sequence_header(data, alpha_item, properties, associations, locations)
        alpha = header is not None and not header.full_range
    return LimitedPlanes(grey=grey, alpha=alpha)


def boxes(data: memoryview, start: int, end: int) -> list[tuple[bytes, tuple[int, int]]]:
    """The (type, (payload start, payload end)) of each ISO-BMFF box between ``start`` and ``end``
    (ISO/IEC 14496-12 4.2), at most :data:`_MAX_BOXES`; raises ``ValueError`` on a box that
    overruns its parent."""
    found: list[tuple[bytes, tuple[int, int]]] = []
    at = start
    while at + 8 <= end:
        if len(found) >= _MAX_BOXES:
            raise _Malformed("too many boxes")
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            if at + 16 > end:
                raise _Malformed("truncated largesize")
            size, header = struct.unpack_from(">Q", data, at + 8)[0], 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            raise _Malformed(f"box {kind!r} overruns its parent")
        found.append((bytes(kind), (at + header, at + size)))
        at += size
    return found


def _child(data: memoryview, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    return next((span for found, span in boxes(data, start, end) if found == kind), None)


def _pitm(data: memoryview, start: int, end: int) -> int:
    version = data[start]
    return struct.unpack_from(">H" if version == 0 else ">I", data, start + 4)[0]


def _iprp(data: memoryview, start: int, end: int) -> tuple[list[tuple[bytes, tuple[int, int]]], dict[int, list[int]]]:
    """The ``ipco`` properties (1-based indices in ``ipma``) and each item's property indices.
    Several ``ipma`` boxes are merged, as libheif reads them (link-u's plum-blossom files have two)."""
    properties: list[tuple[bytes, tuple[int, int]]] = []
    associations: dict[int, list[int]] = {}
    for kind, (s, e) in boxes(data, start, end):
        if kind == b"ipco":
            properties = boxes(data, s, e)
        elif kind == b"ipma":
            version, flags = data[s], int.from_bytes(data[s + 1 : s + 4], "big")
            count = struct.unpack_from(">I", data, s + 4)[0]
            if count > _MAX_ENTRIES:
                raise _Malformed("too many ipma entries")
            at = s + 8
            for _ in range(count):
                item = struct.unpack_from(">H" if version < 1 else ">I", data, at)[0]
                at += 2 if version < 1 else 4
                n = data[at]
                at += 1
                indices = associations.setdefault(item, [])
                for _ in range(n):
                    if flags & 1:
                        indices.append(struct.unpack_from(">H", data, at)[0] & 0x7FFF)
                        at += 2
                    else:
                        indices.append(data[at] & 0x7F)
                        at += 1
                if at > e:
                    raise _Malformed("ipma overruns its box")
    return properties, associations


def _item_properties(
    item: int, properties: list[tuple[bytes, tuple[int, int]]], associations: dict[int, list[int]]
) -> list[tuple[bytes, tuple[int, int]]]:
    return [properties[i - 1] for i in associations.get(item, []) if 0 < i <= len(properties)]


def _auxiliaries(data: memoryview, start: int, end: int) -> list[tuple[int, int]]:
    """(auxiliary item, the item it belongs to) for each ``auxl`` reference of ``iref``."""
    version = data[start]
    width, fmt = (2, ">H") if version == 0 else (4, ">I")
    pairs: list[tuple[int, int]] = []
    for kind, (s, e) in boxes(data, start + 4, end):
        if kind != b"auxl":
            continue
        source = struct.unpack_from(fmt, data, s)[0]
        count = struct.unpack_from(">H", data, s + width)[0]
        if s + width + 2 + count * width > e:
            raise _Malformed("iref overruns its box")
        pairs.extend((source, struct.unpack_from(fmt, data, s + width + 2 + i * width)[0]) for i in range(count))
    return pairs


def _aux_type(data: memoryview, start: int, end: int) -> bytes:
    return bytes(data[start + 4 : end]).split(b"\0", 1)[0]


def _nclx_full_range(data: memoryview, start: int, end: int) -> bool | None:
    if end - start < 11 or bytes(data[start : start + 4]) != b"nclx":
        return None
    return bool(data[start + 10] & 0x80)


def _iloc(data: memoryview, start: int, end: int) -> dict[int, tuple[int, int]]:
    """Each item's first extent (file offset, length), for ``construction_method`` 0 only."""
    version = data[start]
    sizes = struct.unpack_from(">H", data, start + 4)[0]
    offset_size, length_size, base_size = sizes >> 12, (sizes >> 8) & 15, (sizes >> 4) & 15
    index_size = sizes & 15 if version in (1, 2) else 0
    at = start + 6
    count = struct.unpack_from(">H" if version < 2 else ">I", data, at)[0]
    at += 2 if version < 2 else 4
    if count > _MAX_ENTRIES:
        raise _Malformed("too many iloc items")

    def number(size: int) -> int:
        nonlocal at
        if size not in (0, 2, 4, 8):
            raise _Malformed(f"iloc field of {size} bytes")
        value = int.from_bytes(data[at : at + size], "big") if size else 0
        at += size
        return value

    found: dict[int, tuple[int, int]] = {}
    for _ in range(count):
        item = number(2) if version < 2 else number(4)
        method = number(2) & 15 if version in (1, 2) else 0
        at += 2  # data_reference_index
        base = number(base_size)
        extents = number(2)
        first = None
        for _ in range(extents):
            if index_size:
                number(index_size)
            offset, length = number(offset_size), number(length_size)
            first = first or (base + offset, length)
        if at > end:
            raise _Malformed("iloc overruns its box")
        if method == 0 and first is not None:
            found[item] = first
    return found


def _sequence_header(
    data: memoryview,
    item: int,
    properties: list[tuple[bytes, tuple[int, int]]],
    associations: dict[int, list[int]],
    locations: dict[int, tuple[int, int]],
) -> SequenceHeader | None:
    """The item's AV1 sequence header: from ``av1C``'s configOBUs, else from its data."""
    for kind, (s, e) in _item_properties(item, properties, associations):
        if kind == b"av1C" and e - s > 4:
            header = _first_sequence_header(data[s + 4 : e])
            if header is not None:
                return header
    if item in locations:
        offset, length = locations[item]
        if offset < len(data):
            return _first_sequence_header(data[offset : offset + min(length or _MAX_OBU_SCAN, _MAX_OBU_SCAN)])
    return None


def _first_sequence_header(obus: memoryview) -> SequenceHeader | None:
    """Walk OBUs (AV1 spec 5.3: header, then ``obu_size`` as leb128) to the sequence header."""
    at = 0
    while at < len(obus):
        header = obus[at]
        kind, extension, has_size = (header >> 3) & 15, header & 4, header & 2
        at += 2 if extension else 1
        if not has_size:
            size = len(obus) - at
        else:
            size = 0
            for i in range(8):  # leb128 (AV1 spec 4.10.5)
                byte = obus[at]
                at += 1
                size |= (byte & 0x7F) << (7 * i)
                if not byte & 0x80:
                    break
        if kind == _OBU_SEQUENCE_HEADER:
            return _parse_sequence_header(bytes(obus[at : at + size]))
        at += size
    return None


class _Bits:
    """MSB-first bit reader (AV1 spec 4.10.2 f(n))."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def f(self, n: int) -> int:
        value = 0
        for _ in range(n):
            byte = self.data[self.at >> 3]  # IndexError past the end: malformed
            value = (value << 1) | ((byte >> (7 - (self.at & 7))) & 1)
            self.at += 1
        return value

    def uvlc(self) -> int:  # AV1 spec 4.10.3
        zeros = 0
        while not self.f(1):
            zeros += 1
            if zeros >= 32:
                raise _Malformed("uvlc too long")
        return self.f(zeros) + (1 << zeros) - 1


def _parse_sequence_header(payload: bytes) -> SequenceHeader:
    """``sequence_header_obu()`` (AV1 spec 5.5.1) read as far as ``color_config`` (5.5.2)."""
    r = _Bits(payload)
    profile = r.f(3)
    r.f(1)  # still_picture
    reduced = r.f(1)
    decoder_model = False
    if reduced:
        r.f(5)  # seq_level_idx[0]
    else:
        if r.f(1):  # timing_info_present_flag: timing_info() 5.5.3
            r.f(32), r.f(32)
            if r.f(1):  # equal_picture_interval
                r.uvlc()
        decoder_model = bool(r.f(1))
        buffer_delay_length = 0
        if decoder_model:  # decoder_model_info() 5.5.4
            buffer_delay_length = r.f(5) + 1
            r.f(32), r.f(5), r.f(5)
        initial_display_delay = r.f(1)
        for _ in range(r.f(5) + 1):  # operating points
            r.f(12)
            if r.f(5) > 7:  # seq_level_idx
                r.f(1)  # seq_tier
            if decoder_model and r.f(1):  # operating_parameters_info() 5.5.5
                r.f(buffer_delay_length), r.f(buffer_delay_length), r.f(1)
            if initial_display_delay and r.f(1):
                r.f(4)
    width_bits, height_bits = r.f(4) + 1, r.f(4) + 1
    r.f(width_bits), r.f(height_bits)
    if not reduced and r.f(1):  # frame_id_numbers_present_flag
        r.f(4), r.f(3)
    r.f(3)  # use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
    if not reduced:
        r.f(4)  # interintra, masked compound, warped motion, dual filter
        order_hint = r.f(1)
        if order_hint:
            r.f(2)  # enable_jnt_comp, enable_ref_frame_mvs
        force_screen_content = 2 if r.f(1) else r.f(1)  # seq_choose_screen_content_tools
        if force_screen_content > 0 and not r.f(1):  # seq_choose_integer_mv
            r.f(1)  # seq_force_integer_mv
        if order_hint:
            r.f(3)
    r.f(3)  # enable_superres, enable_cdef, enable_restoration
    # color_config() 5.5.2
    high_bitdepth = r.f(1)
    bit_depth = (12 if r.f(1) else 10) if profile == 2 and high_bitdepth else (10 if high_bitdepth else 8)
    mono = False if profile == 1 else bool(r.f(1))
    primaries, transfer, matrix = 2, 2, 2
    if r.f(1):  # color_description_present_flag
        primaries, transfer, matrix = r.f(8), r.f(8), r.f(8)
    if not mono and (primaries, transfer, matrix) == (1, 13, 0):
        full = True  # sRGB identity: color_range is implied 1
    else:
        full = bool(r.f(1))
    return SequenceHeader(bit_depth=bit_depth, mono_chrome=mono, full_range=full)
