"""A progressive JPEG "scan bomb" (libjpeg-turbo's LJT-01-003), made by jpegtran and libvips.

Every scan of :func:`scan_bomb` is one a conforming encoder may write: the DC scan, then for
each component and each of the 63 AC coefficients a first scan at Al = 10 and ten successive-
approximation refinements down to Al = 0 (ITU-T T.81 G.1.1.1.1; libjpeg's 8-bit limit for Al is
10). That is 1 + 3 x 63 x 11 = 2,080 scans, the figure of the issue, and each costs a decoder a
pass over the image. jpegtran writes at most 100 scans per ``-scans`` script, so it writes the
DC scan and one AC scan of a flat picture; an all-zero band codes to the same data whatever
its coefficient, component (4:4:4) and bit position, so that scan's DHT + SOS + data is repeated
with the SOS header's component, Ss = Se and Ah/Al rewritten.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pyvips

from tests.helpers.codec_tools import require_tool, run_tool

#: Successive-approximation steps of each AC coefficient: (Ah, Al) of the first scan, then refinements.
_BIT_STEPS = [(0, 10)] + [(al + 1, al) for al in range(9, -1, -1)]


def scan_bomb(folder: Path, width: int = 6000, height: int = 4000) -> tuple[bytes, int]:
    """The bytes of a valid flat-grey ``width`` x ``height`` progressive JPEG of 2,080 scans, and
    that count. Skips where jpegtran is missing (fails under CI)."""
    jpegtran = require_tool("jpegtran")
    flat = (pyvips.Image.black(width, height, bands=3) + [120, 130, 140]).cast("uchar").copy(interpretation="srgb")
    base, two, script = folder / "flat.jpg", folder / "two-scans.jpg", folder / "scans.txt"
    flat.jpegsave(str(base), Q=95, subsample_mode="off")
    script.write_text("0,1,2: 0-0, 0, 0;\n0: 1-1, 0, 10;\n")
    run_tool(jpegtran, "-scans", script, "-outfile", two, base)
    data = two.read_bytes()
    segments = _segments(data)
    sos = [i for i, (marker, _, _) in enumerate(segments) if marker == 0xDA]
    head = b"\xff\xd8" + b"".join(data[a:b] for _, a, b in segments[: sos[0] + 1])
    tables = b"".join(data[a:b] for _, a, b in segments[sos[0] + 1 : sos[1]])
    _, a, b = segments[sos[1]]
    template = data[a:b]
    frame = next(data[a:b] for marker, a, b in segments if marker == 0xC2)
    components = [frame[10 + 3 * i] for i in range(frame[9])]
    body = bytearray()
    for component in components:
        for k in range(1, 64):
            for ah, al in _BIT_STEPS:
                scan = bytearray(template)
                scan[5] = component
                scan[7], scan[8], scan[9] = k, k, (ah << 4) | al
                body += tables + scan
    count = 1 + len(components) * 63 * len(_BIT_STEPS)
    return head + bytes(body) + b"\xff\xd9", count


def _segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each segment after SOI; an SOS runs to the end of its data."""
    found, pos = [], 2
    while pos < len(data):
        marker = data[pos + 1]
        if marker == 0xD9:
            break
        end = pos + 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker == 0xDA:
            while not (data[end] == 0xFF and data[end + 1] not in (0x00, *range(0xD0, 0xD8))):
                end += 1
        found.append((marker, pos, end))
        pos = end
    return found
