"""process_command: the operator's view of the pipeline (one line per file, then JSON)."""

from __future__ import annotations

import io
import json

from media_vm.imaging.cli import process_command
from tests.helpers.images import logo, photo_jpeg, pixel_bomb_png, truncated_jpeg


def _run(files, out, data_type="product"):
    stream = io.StringIO()
    code = process_command(files, out, data_type, stdout=stream)
    text = stream.getvalue()
    lines, _, rest = text.partition("\n{")
    return code, lines.splitlines(), json.loads("{" + rest)


def test_good_files_exit_0_with_a_line_each_and_a_summary(tmp_path):
    photo = photo_jpeg(tmp_path / "holiday.jpg", 640, 480)
    logo(tmp_path / "brand.png")
    code, lines, summary = _run([photo, tmp_path / "brand.png"], tmp_path / "out", "logo")
    assert code == 0
    assert len(lines) == 2
    assert lines[0].startswith(f"{photo}: 640x480 jpeg -> ") and " ms" in lines[0]
    assert "sizes thumbnail,grid,small,detail,header,zoom" in lines[0]
    assert "background removed" in lines[1]
    assert (summary["processed"], summary["rejected"], summary["failed"]) == (2, 0, 0)
    first = summary["files"][0]
    assert first["status"] == "processed" and first["files"] == 24 and first["ms"] >= 0
    assert {v["name"] for v in first["variants"]} == {p.name for p in (tmp_path / "out" / "holiday").iterdir()}


def test_a_rejected_file_sets_exit_1_and_says_why(tmp_path):
    good = photo_jpeg(tmp_path / "ok.jpg", 320, 240)
    bomb = pixel_bomb_png(tmp_path / "bomb.png")
    cut = truncated_jpeg(tmp_path / "cut.jpg")
    code, lines, summary = _run([good, bomb, cut], tmp_path / "out")
    assert code == 1
    assert lines[1] == f"{bomb}: rejected: bomb.png: image is 20000x20000 = 400.0 MP, over the 100.0 MP limit"
    assert lines[2].startswith(f"{cut}: rejected: ")
    assert (summary["processed"], summary["rejected"]) == (1, 2)
    assert not (tmp_path / "out" / "bomb").exists() and not (tmp_path / "out" / "cut").exists()


def test_an_unknown_data_type_is_a_usage_error(tmp_path):
    stream = io.StringIO()
    assert process_command([], tmp_path, "poster", stdout=stream) == 2
    assert "unknown data type 'poster'" in stream.getvalue()
