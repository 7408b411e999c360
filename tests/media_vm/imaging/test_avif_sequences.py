"""Animated AVIF (``avis``) is accepted and made from its first frame, its frames counted against
``max_frames``, as animated GIF and WebP are (``imaging.avif_sequence``); one with no frame that
decodes is refused saying so, never "corrupt"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from media_vm.imaging.judging import Accepted, RefusalReason, Refused, verdict
from media_vm.imaging.loading import decode, probe
from tests.helpers.codec_tools import require_tool, run_tool
from tests.helpers.corpus import CONFORMANCE, requires_conformance

COLOURS = [(220, 40, 40), (40, 200, 60), (50, 70, 230), (240, 220, 30)]
AVIF_SUITE = CONFORMANCE / "avif"


def _sequence(folder: Path, frames: int, size: tuple[int, int] = (96, 64)) -> Path:
    """An AVIF sequence written by avifenc from ``frames`` flat PNGs of :data:`COLOURS`."""
    import pyvips

    avifenc = require_tool("avifenc")
    pngs = []
    for i in range(frames):
        png = folder / f"frame{i}.png"
        colour = list(COLOURS[i % len(COLOURS)])
        (pyvips.Image.black(*size, bands=3) + colour).cast("uchar").copy(interpretation="srgb").pngsave(str(png))
        pngs.append(png)
    out = folder / "anim.avifs"
    run_tool(avifenc, "-s", "10", "--min", "0", "--max", "10", "--fps", "10", *pngs, out)
    assert out.read_bytes()[8:12] == b"avis"
    return out


def test_an_animated_avif_is_accepted_and_made_from_its_first_frame(tmp_path):
    path = _sequence(tmp_path, 3)
    assert verdict(path.read_bytes()) == Accepted(width=96, height=64, format="avif", mime_type="image/avif",
                                                  pages=3)
    image = decode(probe(path))
    pixels = image.numpy().reshape(-1, image.bands).astype(float)
    assert image.bands == 3  # avifenc's opaque alpha is dropped, as for every format
    mean = pixels.mean(axis=0)
    distances = [np.abs(mean - np.array(c)).max() for c in COLOURS[:3]]
    assert distances[0] < 6 and min(distances[1:]) > 60, (mean, distances)


def test_an_animated_avif_counts_its_frames_against_the_limit(tmp_path):
    path = _sequence(tmp_path, 4, size=(32, 32))
    refused = verdict(path.read_bytes(), max_frames=3)
    assert isinstance(refused, Refused) and refused.reason is RefusalReason.FRAMES
    assert (refused.frames, refused.limit) == (4, 3)


def test_a_sequence_with_no_decodable_frame_is_refused_saying_so_not_corrupt(tmp_path):
    data = bytearray(_sequence(tmp_path, 2).read_bytes())
    start = data.find(b"mdat") + 4
    data[start:] = b"\x55" * (len(data) - start)  # the coded frames destroyed, the boxes kept
    refused = verdict(bytes(data), name="upload")
    assert isinstance(refused, Refused) and refused.reason is RefusalReason.NO_STILL_IMAGE
    assert "AVIF image sequence with no still image or first frame" in refused.message
    assert "corrupt" not in refused.message




@requires_conformance
@pytest.mark.parametrize("name", ["star-8bpc.avifs", "star-10bpc.avifs"])
def test_the_conformance_sequences_decode_as_avifdec_decodes_them(name, tmp_path):
    """link-u's star sequences against libavif's own decode of their first frame (``avifdec``):
    mean absolute difference under 1 of 255 per channel (0.0 measured: both are libavif)."""
    import pyvips

    avifdec = require_tool("avifdec")
    path = AVIF_SUITE / name
    if not path.is_file():
        pytest.fail(f"conformance file missing: {path}")
    info = probe(path)
    assert info.format == "avif" and info.pages == 5
    ours = decode(info).numpy().astype(float)
    run_tool(avifdec, "-d", "8", path, tmp_path / "reference.png")
    reference = pyvips.Image.new_from_file(str(tmp_path / "reference.png")).numpy().astype(float)[..., :3]
    assert ours.shape == reference.shape
    assert np.abs(ours - reference).mean() < 1.0


@requires_conformance
def test_a_sequence_whose_alpha_reference_names_no_item_is_decoded_as_avifdec_decodes_it(tmp_path):
    """link-u's star-8bpc-with-alpha.avifs: its ``auxl`` reference points the alpha item at item
    0, which does not exist; libavif 1.4.2 refused the file ("BMFF parsing failed", refused as
    NO_STILL_IMAGE before), avifdec 0.11 decodes it. The repaired copy differs in that one 16-bit
    target (one byte: 0 -> 4); its first frame matches ``avifdec -d 16``: alpha within 1, colour where opaque
    within 1 on average (measured 0.13; alpha exact)."""
    import pyvips

    from media_vm.imaging.avif_sequence import alpha_on_primary

    path = AVIF_SUITE / "star-8bpc-with-alpha.avifs"
    if not path.is_file():
        pytest.fail(f"conformance file missing: {path}")
    data = path.read_bytes()
    repaired = alpha_on_primary(data)
    assert repaired is not None and sum(a != b for a, b in zip(data, repaired, strict=True)) == 1
    info = probe(path)
    assert info.format == "avif" and info.pages == 5
    ours = decode(info).numpy().astype(float)
    run_tool(require_tool("avifdec"), "-d", "16", path, tmp_path / "reference.png")
    reference = np.round(pyvips.Image.new_from_file(str(tmp_path / "reference.png")).numpy() / 257)
    assert ours.shape == reference.shape and reference.shape[2] == 4
    assert np.abs(ours[..., 3] - reference[..., 3]).max() <= 1
    opaque = reference[..., 3] == 255
    assert np.abs(ours[..., :3] - reference[..., :3])[opaque].mean() < 1.0


def test_a_sequence_with_sound_references_is_not_rewritten(tmp_path):
    """A guard (passes on the old code too): avifenc's own sequences need no repair."""
    from media_vm.imaging.avif_sequence import alpha_on_primary

    assert alpha_on_primary(_sequence(tmp_path, 2, size=(16, 16)).read_bytes()) is None
