"""The loader allowlist really works on this libvips: blocked formats are refused, allowed ones load."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import pyvips

from media_vm.exceptions import ImageRejected
from media_vm.imaging import configure_libvips, open_image, probe
from media_vm.imaging.security import verify_loader_block
from tests.helpers.images import matrix_file, photo_like, svg_file

_LOAD_EACH = """
import json, sys, pyvips
if sys.argv[1] == "configured":
    from media_vm.imaging import configure_libvips
    configure_libvips()
result = {}
for path in sys.argv[2:]:
    try:
        result[path] = pyvips.Image.new_from_file(path).get("vips-loader")
    except pyvips.Error:
        result[path] = None
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def blocked_inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("blocked")
    csv = folder / "table.csv"
    csv.write_text("1,2,3\n4,5,6\n")
    return {"svg": svg_file(folder / "logo.svg"), "matrix": matrix_file(folder / "m.mat"), "csv": csv}


def _loaders_in_fresh_process(mode: str, paths: list[Path]) -> dict[str, str | None]:
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_EACH, mode, *map(str, paths)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_without_the_block_this_libvips_would_load_them(blocked_inputs):
    """The control: these files are loadable here, so refusing them below proves the block works."""
    loaders = _loaders_in_fresh_process("plain", list(blocked_inputs.values()))
    assert loaders == {
        str(blocked_inputs["svg"]): "svgload",
        str(blocked_inputs["matrix"]): "matrixload",
        str(blocked_inputs["csv"]): "csvload",
    }


def test_after_configure_libvips_they_are_refused_even_by_raw_pyvips(blocked_inputs):
    loaders = _loaders_in_fresh_process("configured", list(blocked_inputs.values()))
    assert set(loaders.values()) == {None}
    # and in this (configured) test process, by name and by direct operation call
    for path in blocked_inputs.values():
        with pytest.raises(pyvips.Error):
            pyvips.Image.new_from_file(str(path))
    with pytest.raises(pyvips.Error):
        pyvips.Operation.call("svgload", str(blocked_inputs["svg"]))
    with pytest.raises(pyvips.Error):
        pyvips.Operation.call("matrixload", str(blocked_inputs["matrix"]))


@pytest.mark.parametrize("kind", ["svg", "matrix", "csv"])
def test_the_pipeline_rejects_blocked_formats(blocked_inputs, kind):
    with pytest.raises(ImageRejected, match="not a supported image format"):
        open_image(blocked_inputs[kind])


def test_configure_is_idempotent_and_verifies_itself():
    configure_libvips()
    configure_libvips(cache_max=0)
    verify_loader_block()
    assert pyvips.cache_get_max() == 0


@pytest.mark.parametrize(
    ("name", "save", "loader", "fmt"),
    [
        ("a.jpg", lambda im, p: im.jpegsave(p), "jpegload", "jpeg"),
        ("a.png", lambda im, p: im.pngsave(p), "pngload", "png"),
        ("a.webp", lambda im, p: im.webpsave(p), "webpload", "webp"),
        ("a.gif", lambda im, p: im.gifsave(p), "gifload", "gif"),
        ("a.avif", lambda im, p: im.heifsave(p, compression="av1", effort=0), "heifload", "avif"),
        ("a.tif", lambda im, p: im.tiffsave(p), "tiffload", "tiff"),
    ],
)
def test_every_allowed_format_still_loads(tmp_path, name, save, loader, fmt):
    path = tmp_path / name
    save(photo_like(64, 48), str(path))
    info = probe(path)
    assert (info.loader, info.format, info.width, info.height) == (loader, fmt, 64, 48)
    image = open_image(path)
    assert (image.width, image.height, image.bands, image.format) == (64, 48, 3, "uchar")


def test_the_content_decides_not_the_name(tmp_path):
    disguised = tmp_path / "photo.jpg"
    svg_file(disguised)  # SVG content under a .jpg name
    with pytest.raises(ImageRejected, match="not a supported image format"):
        probe(disguised)
    png_named_jpg = tmp_path / "really-a-png.jpg"
    photo_like(32, 32).pngsave(str(png_named_jpg))
    assert probe(png_named_jpg).format == "png"


_CONCURRENT_OPENS = r'''
import sys, threading
from media_vm.imaging.judging import judge
from media_vm.imaging.security import configure_libvips
data = open(sys.argv[1], "rb").read()
errors, done = [], threading.Event()

def reconfigure():
    while not done.is_set():
        configure_libvips()

def open_many():
    for _ in range(40):
        try:
            judge(data, name="upload")
        except Exception as e:
            errors.append(repr(e))

configurer = threading.Thread(target=reconfigure)
configurer.start()
openers = [threading.Thread(target=open_many) for _ in range(8)]
[t.start() for t in openers]
[t.join() for t in openers]
done.set()
configurer.join()
print(len(errors), errors[:2])
'''


def test_configuring_again_never_blocks_the_loaders_of_images_being_opened(tmp_path):
    """The gate and the worker call configure_libvips from several threads; blocking every loader
    and unblocking the allowed ones again made a concurrent open of a valid JPEG fail as "not a
    supported image format" (one upload in 200 under load). A fresh process, as a server starts."""
    import subprocess
    import sys

    from tests.helpers.images import photo_jpeg

    photo = photo_jpeg(tmp_path / "p.jpg", 480, 320, quality=80)
    run = subprocess.run([sys.executable, "-c", _CONCURRENT_OPENS, str(photo)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "0 []"
