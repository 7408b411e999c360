"""Counting the scans of a JPEG without decoding it: the guard against a "scan bomb".

A progressive JPEG may legally carry thousands of scans, and the decoder makes a full pass over
the image's coefficients for each (libjpeg-turbo's LJT-01-003, "Two Issues with the JPEG
Standard"): a valid 0.28 MB 24 MP file with 2,080 scans held the upload gate for 11 s and a
worker for 50 s, where a real 24 MP photo takes 1.2 s. :func:`count_scans` walks the marker
segments (ITU-T T.81, annex B) and counts the start-of-scan (SOS, ``FF DA``) markers, hopping
over each scan's entropy-coded data with ``bytes.find`` (stuffed ``FF 00`` bytes, restart
markers ``FF D0``-``FF D7`` and fill bytes ``FF FF`` belong to the data): milliseconds, even for
a 64 MB file, and it stops as soon as the count passes the caller's limit.
"""

from __future__ import annotations

import struct

#: Markers without a length field (T.81 table B.1): TEM, RST0-7, SOI, EOI.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8), 0xD8, 0xD9})
_SOS = 0xDA
_EOI = 0xD9


def count_scans(data: bytes | memoryview, *, stop_after: int | None = None) -> int:
    """The number of SOS markers (scans) of the JPEG ``data``, walked without decoding.

    Counting stops once it passes ``stop_after`` (the caller's limit: the answer is then
    ``stop_after + 1``), at the EOI marker, or where the data ends or stops making sense (a
    truncated or corrupt file: the decoder judges those). A baseline JPEG has one scan per
    component group (1-3), libjpeg's progressive script 10 (6 for grey); see
    :data:`~media_vm.defaults.MAX_JPEG_SCANS` for the limit.
    """
    view = bytes(data)
    size = len(view)
    if size < 4 or view[0] != 0xFF or view[1] != 0xD8:
        return 0
    scans = 0
    pos = 2
    while pos + 1 < size:
        if view[pos] != 0xFF:
            return scans  # not on a marker: corrupt; the decoder says so
        marker = view[pos + 1]
        if marker == 0xFF:  # fill byte before a marker (T.81 B.1.1.2)
            pos += 1
            continue
        if marker == _EOI:
            return scans
        if marker in _STANDALONE:
            pos += 2
            continue
        if pos + 4 > size:
            return scans
        (length,) = struct.unpack_from(">H", view, pos + 2)
        if length < 2:
            return scans
        pos += 2 + length
        if marker != _SOS:
            continue
        scans += 1
        if stop_after is not None and scans > stop_after:
            return scans
        pos = _end_of_entropy_data(view, pos)
    return scans


def _end_of_entropy_data(view: bytes, pos: int) -> int:
    """Offset of the marker that ends the entropy-coded data starting at ``pos`` (or the end)."""
    size = len(view)
    while True:
        pos = view.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= size:
            return size
        follower = view[pos + 1]
        if follower == 0x00 or 0xD0 <= follower <= 0xD7:  # stuffed byte, restart marker
            pos += 2
        elif follower == 0xFF:  # fill bytes: the marker comes after them
            pos += 1
        else:
            return pos
