"""A lossless WebP whose ``alpha_is_used`` hint is off keeps the transparency its pixels have,
as ``dwebp`` decodes it (``imaging.webp_alpha``); compared with ``dwebp -pam``, mean absolute
difference under 0.5 of 255 per channel (lossless: 0.0 measured)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import pyvips

from media_vm.imaging.loading import decode, probe
from tests.helpers.codec_tools import read_pam, require_tool, run_tool

CONFORMANCE = Path(__file__).resolve().parents[3].parent / "shared" / "conformance" / "webp"


def _against_dwebp(path: Path, tmp_path: Path) -> tuple[np.ndarray, np.ndarray]:
    run_tool(require_tool("dwebp"), "-pam", path, "-o", tmp_path / "reference.pam")
    reference = read_pam(tmp_path / "reference.pam").astype(float)
    image = decode(probe(path))
    ours = image.numpy().astype(float)
    if image.bands == 3:
        ours = np.dstack([ours, np.full(ours.shape[:2], 255.0)])
    return ours, reference


def test_transparency_survives_an_alpha_hint_that_is_off(tmp_path):
    picture = pyvips.Image.black(64, 48, bands=3) + [200, 60, 30]
    alpha = pyvips.Image.black(64, 48).draw_rect(255, 0, 0, 32, 48, fill=True)
    png, path = tmp_path / "source.png", tmp_path / "hint-off.webp"
    picture.bandjoin(alpha).cast("uchar").copy(interpretation="srgb").pngsave(str(png))
    run_tool(require_tool("cwebp"), "-quiet", "-lossless", "-exact", "-metadata", "none", png, "-o", path)
    data = bytearray(path.read_bytes())
    assert data[8:16] == b"WEBPVP8L" and data[24] & 0x10
    data[24] &= ~0x10  # the encoder said "no alpha": a hint only (RFC 9649 3.2)
    path.write_bytes(bytes(data))
    ours, reference = _against_dwebp(path, tmp_path)
    assert (reference[..., 3] == 0).mean() == pytest.approx(0.5)
    assert np.abs(ours - reference).mean() < 0.5


@pytest.mark.skipif(not CONFORMANCE.is_dir() and not os.environ.get("CI"), reason="../shared/conformance not present")
def test_libwebps_out_of_range_palette_index_file_is_transparent_where_dwebp_says(tmp_path):
    path = CONFORMANCE / "bad_palette_index.webp"
    if not path.is_file():
        pytest.fail(f"conformance file missing: {path}")
    ours, reference = _against_dwebp(path, tmp_path)
    assert (reference[..., 3] == 0).mean() > 0.1  # indices past the palette: transparent black
    assert np.abs(ours - reference).mean() < 0.5
