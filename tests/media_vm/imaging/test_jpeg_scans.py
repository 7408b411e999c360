"""A JPEG scan bomb (libjpeg-turbo LJT-01-003) is refused from its scan count, before any
decoding, by the one verdict the upload gate and the VM share (``imaging.jpeg_scans``)."""

from __future__ import annotations

import subprocess
import time

import pytest

from media_vm.exceptions import ScanLimitExceeded
from media_vm.imaging.defaults import DEFAULT_MAX_JPEG_SCANS
from media_vm.imaging.jpeg_scans import count_scans
from media_vm.imaging.judging import Accepted, RefusalReason, Refused, verdict
from media_vm.imaging.loading import open_image
from tests.helpers.codec_tools import require_tool
from tests.helpers.images import photo_like
from tests.helpers.jpeg_bombs import scan_bomb


def _scans_by_libjpeg(path) -> int:
    """The scans libjpeg-turbo itself reads: ``djpeg -verbose`` traces one "Start Of Scan" each."""
    djpeg = require_tool("djpeg")
    done = subprocess.run([djpeg, "-verbose", "-outfile", "/dev/null", str(path)], capture_output=True, text=True)
    return done.stderr.count("Start Of Scan")


def test_the_scan_count_is_libjpegs_for_baseline_progressive_and_bomb_files(tmp_path):
    picture = photo_like(640, 480)
    baseline, progressive, grey = tmp_path / "b.jpg", tmp_path / "p.jpg", tmp_path / "g.jpg"
    picture.jpegsave(str(baseline))
    picture.jpegsave(str(progressive), interlace=True)
    picture.colourspace("b-w").jpegsave(str(grey), interlace=True, restart_interval=2)  # RST markers in the data
    bomb_data, built = scan_bomb(tmp_path, 640, 480)
    bomb = tmp_path / "bomb.jpg"
    bomb.write_bytes(bomb_data)
    for path in (baseline, progressive, grey, bomb):
        assert count_scans(path.read_bytes()) == _scans_by_libjpeg(path), path.name
    assert count_scans(bomb_data) == built
    # bounded: it stops one past the limit it is given
    assert count_scans(bomb_data, stop_after=100) == 101


def test_a_scan_bomb_is_refused_in_well_under_a_second_with_the_reason(tmp_path):
    """The issue's bomb: a valid 0.28 MB 24 MP progressive JPEG of 2,080 scans (11 s at the gate
    before the limit)."""
    data, scans = scan_bomb(tmp_path)
    assert scans == 2080 and len(data) < 300_000
    started = time.perf_counter()
    judged = verdict(data, name="upload")
    seconds = time.perf_counter() - started
    assert isinstance(judged, Refused), judged
    assert judged.reason is RefusalReason.SCANS and judged.limit == DEFAULT_MAX_JPEG_SCANS
    assert judged.scans == DEFAULT_MAX_JPEG_SCANS + 1
    assert "more than 100 scans" in judged.message
    assert seconds < 0.5, f"the bomb took {seconds:.2f} s to refuse"


def test_the_vm_refuses_the_bomb_file_the_same_way_before_decoding(tmp_path):
    data, _ = scan_bomb(tmp_path)
    path = tmp_path / "bomb.jpg"
    path.write_bytes(data)
    started = time.perf_counter()
    with pytest.raises(ScanLimitExceeded) as refused:
        open_image(path)
    assert time.perf_counter() - started < 0.5
    assert refused.value.limit == DEFAULT_MAX_JPEG_SCANS


def test_a_jpeg_at_the_limit_is_accepted_and_the_limit_is_a_parameter(tmp_path):
    data, _ = scan_bomb(tmp_path, 320, 240)
    scans = count_scans(data)
    assert isinstance(verdict(data, max_jpeg_scans=scans), Accepted)
    refused = verdict(data, max_jpeg_scans=scans - 1)
    assert isinstance(refused, Refused) and refused.reason is RefusalReason.SCANS


def test_counting_does_not_slow_a_normal_24_mp_progressive_upload(tmp_path):
    """A 24 MP progressive photo: the count is a few per cent of the gate's verdict."""
    path = tmp_path / "photo.jpg"
    photo_like(6000, 4000).jpegsave(str(path), Q=85, interlace=True)
    data = path.read_bytes()
    started = time.perf_counter()
    scans = count_scans(data, stop_after=DEFAULT_MAX_JPEG_SCANS)
    counting = time.perf_counter() - started
    started = time.perf_counter()
    judged = verdict(data)
    judging = time.perf_counter() - started
    assert isinstance(judged, Accepted) and scans == _scans_by_libjpeg(path)
    print(f"24 MP progressive, {len(data) / 1e6:.1f} MB, {scans} scans: count {counting * 1000:.1f} ms, "
          f"verdict {judging * 1000:.0f} ms")
    assert counting < 0.1 and counting < 0.1 * judging
