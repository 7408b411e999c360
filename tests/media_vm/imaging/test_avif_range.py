"""Limited-range AVIF grey and alpha come out as libavif decodes them (``imaging.avif_range``):
monochrome images of any bit depth are expanded from 16-235 to 0-255 (they were washed out),
limited-range alpha from 16-235 to 0-255 (transparent areas kept a 6 % veil).

References are ``avifdec -d 16`` (libavif's RGB conversion), scaled to 8 bits. Not ``-d 8``:
for an 8-bit monochrome image without alpha avifdec's PNG writer copies the Y plane as it is
(libavif ``apps/shared/avifpng.c``, ``monochrome8bit``), unexpanded.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from media_vm.imaging.avif_range import LimitedPlanes, limited_planes
from media_vm.imaging.loading import decode, probe
from tests.helpers.codec_tools import require_tool, run_tool
from tests.helpers.corpus import CONFORMANCE, requires_conformance

AVIF_SUITE = CONFORMANCE / "avif"


def _avifdec(path: Path, folder: Path) -> np.ndarray:
    """libavif's decode of ``path`` in 8-bit steps (rounded from its 16-bit output)."""
    import pyvips

    out = folder / f"{path.stem}.reference.png"
    run_tool(require_tool("avifdec"), "-d", "16", path, out)
    samples = pyvips.Image.new_from_file(str(out)).numpy().astype(float)
    return np.round((samples if samples.ndim == 3 else samples[..., None]) / 257)


def _ours(path: Path) -> np.ndarray:
    samples = decode(probe(path)).numpy().astype(float)
    return samples if samples.ndim == 3 else samples[..., None]


def _grey_png(folder: Path) -> Path:
    """A 256x96 grey picture: a ramp over all 256 levels above bands of black and white."""
    import pyvips

    ramp = pyvips.Image.xyz(256, 64)[0].cast("uchar")
    bands = (pyvips.Image.xyz(256, 32)[0] > 127).ifthenelse(255, 0).cast("uchar")
    path = folder / "grey.png"
    ramp.join(bands, "vertical").copy(interpretation="b-w").pngsave(str(path))
    return path


def _conformance(name: str) -> Path:
    path = AVIF_SUITE / name
    if not path.is_file():
        pytest.fail(f"conformance file missing: {path}")
    return path


@pytest.mark.parametrize("depth", [8, 10, 12])
def test_a_limited_range_monochrome_avif_is_expanded_as_avifdec_expands_it(depth, tmp_path):
    """avifenc's ``--yuv 400 -r limited``: black at 16, white at 235 (scaled by the bit depth) in
    the file. Measured before the fix: mean |difference| 9.1-9.4 of 255 (max 21); after: 0.0
    (8-bit), 0.3 (10/12-bit: the 16-to-8-bit step truncates), max 1."""
    path = tmp_path / f"grey{depth}.avif"
    run_tool(require_tool("avifenc"), "-s", "10", "--yuv", "400", "-d", str(depth), "-r", "limited",
             _grey_png(tmp_path), path)
    assert limited_planes(path.read_bytes()) == LimitedPlanes(grey=True, alpha=False)
    ours, reference = _ours(path), _avifdec(path, tmp_path)
    assert reference[..., 0].min() == 0 and reference[..., 0].max() == 255
    difference = np.abs(ours[..., 0] - reference[..., 0])
    assert difference.mean() < 0.5 and difference.max() <= 1, (difference.mean(), difference.max())


def test_a_full_range_monochrome_avif_is_left_as_it_is(tmp_path):
    """A guard, not a fix: full range was right before and stays so (passes on the old code too)."""
    path = tmp_path / "full.avif"
    run_tool(require_tool("avifenc"), "-s", "10", "--yuv", "400", "-d", "10", "-r", "full", _grey_png(tmp_path), path)
    assert not limited_planes(path.read_bytes())
    difference = np.abs(_ours(path)[..., 0] - _avifdec(path, tmp_path)[..., 0])
    assert difference.mean() < 0.5 and difference.max() <= 1


@requires_conformance
@pytest.mark.parametrize(
    "name",
    [
        "fox.profile0.8bpc.yuv420.monochrome.avif",
        "fox.profile0.10bpc.yuv420.monochrome.odd-height.avif",
        "fox.profile2.10bpc.yuv422.monochrome.avif",
        "fox.profile2.12bpc.yuv444.monochrome.odd-width.odd-height.avif",
    ],
)
def test_link_us_monochrome_files_decode_as_avifdec_decodes_them(name, tmp_path):
    """No ``nclx`` box: the range is only in the AV1 sequence header (``av1C`` configOBUs).
    Measured mean grey before: 62.8-63.3 where avifdec gives 55.1; |difference| 9.1-9.4 -> 0.0-0.3."""
    path = _conformance(name)
    ours, reference = _ours(path), _avifdec(path, tmp_path)
    assert ours.shape[:2] == reference.shape[:2]
    difference = np.abs(ours[..., 0] - reference[..., 0])
    assert difference.mean() < 0.5 and abs(ours[..., 0].mean() - reference[..., 0].mean()) < 0.5


def merged_ipma(data: bytes) -> bytes:
    """A copy of link-u's plum-blossom file with its two ``ipma`` boxes merged into one and a
    ``free`` box after ``iprp`` in place of the bytes saved (so no offset moves): libavif refuses
    two ``ipma`` of one version and flags (HEIF 9.3.1: "at most one"), libheif reads both. The
    coded samples are untouched; the copy is only the reference's input."""
    first = data.index(b"ipma") - 4
    first_size = struct.unpack_from(">I", data, first)[0]
    second = first + first_size
    second_size = struct.unpack_from(">I", data, second)[0]
    assert data[second + 4 : second + 8] == b"ipma" and data[first + 8 : first + 12] == data[second + 8 : second + 12]
    count = struct.unpack_from(">I", data, first + 12)[0] + struct.unpack_from(">I", data, second + 12)[0]
    body = data[first + 8 : first + 12] + struct.pack(">I", count)
    body += data[first + 16 : first + first_size] + data[second + 16 : second + second_size]
    ipma = struct.pack(">I", 8 + len(body)) + b"ipma" + body
    spare = first_size + second_size - len(ipma)
    iprp = data.index(b"iprp") - 4
    iprp_size = struct.unpack_from(">I", data, iprp)[0]
    assert iprp + iprp_size == second + second_size  # the ipma boxes end the iprp
    out = bytearray(data[:first] + ipma + struct.pack(">I", spare) + b"free" + bytes(spare - 8))
    out += data[second + second_size :]
    struct.pack_into(">I", out, iprp, iprp_size - spare)
    return bytes(out)


@requires_conformance
@pytest.mark.parametrize(
    "name",
    [
        "plum-blossom-small.profile2.10bpc.yuv422.alpha-limited.avif",
        "plum-blossom-large.profile0.8bpc.yuv420.alpha-limited.avif",
        "plum-blossom-large.profile2.12bpc.yuv422.alpha-limited.monochrome.avif",
    ],
)
def test_link_us_limited_range_alpha_is_transparent_where_avifdec_says(name, tmp_path):
    """Reference: avifdec of the file with its ``ipma`` boxes merged (:func:`merged_ipma`).
    Measured before: alpha minimum 16 (reference 0), mean |alpha difference| 18; after: alpha
    within 1 of avifdec; colour where avifdec's alpha is opaque within 1.5 on average (0.08-0.97:
    libheif and libavif upsample chroma differently; the monochrome file was 16.2 before)."""
    path = _conformance(name)
    repaired = tmp_path / name
    repaired.write_bytes(merged_ipma(path.read_bytes()))
    ours, reference = _ours(path), _avifdec(repaired, tmp_path)
    assert ours.shape[2] == 4 and reference.shape[2] == 4
    assert reference[..., 3].min() == 0
    assert ours[..., 3].min() == 0 and np.abs(ours[..., 3] - reference[..., 3]).max() <= 1
    opaque = reference[..., 3] == 255
    assert np.abs(ours[..., :3] - reference[..., :3])[opaque].mean() < 1.5


@pytest.mark.parametrize("cut", [0, 20, 40, 100, 200, 300, 400])
def test_the_box_reader_takes_hostile_bytes_without_raising(cut, tmp_path):
    """Truncated, flipped and size-forged copies of a real limited-range file: never an
    exception, and at worst no expansion (libheif then judges the file)."""
    path = tmp_path / "grey.avif"
    run_tool(require_tool("avifenc"), "-s", "10", "--yuv", "400", "-r", "limited", _grey_png(tmp_path), path)
    data = path.read_bytes()
    rng = np.random.default_rng(cut)
    samples = [data[:cut], data[: len(data) - cut]]
    for _ in range(50):
        broken = bytearray(data)
        at = int(rng.integers(0, min(len(data), 600)))
        broken[at] = int(rng.integers(0, 256))
        samples.append(bytes(broken))
    forged = bytearray(data)
    at = data.index(b"meta") - 4
    forged[at : at + 4] = b"\xff\xff\xff\xff"
    samples += [bytes(forged), b"\0\0\0\x01meta" + b"\xff" * 8, b"\0\0\0\x10meta" + b"\0" * 8 + b"\xff" * 64]
    for sample in samples:
        assert isinstance(limited_planes(sample), LimitedPlanes)
