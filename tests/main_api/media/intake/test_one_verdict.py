"""The upload gate and the media VM give one verdict on every file.

Every file of ``../shared/corpus`` and ``../shared/bugs`` (where they exist) and generated
equivalents of the cases that used to split them (so a fresh clone tests it too) goes through
the gate (``check_image``, as ``PATCH /users/me`` calls it) and through the VM's own
``make_variants``: accepted by both, or refused by both. A file the gate refuses for a
reason of its own, not a decoding one (active content: a polyglot), is not a verdict on the
image and is left out: there is none among these files.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from main_api.common.exceptions import InvalidImage
from main_api.media.intake.gate import check_image
from media_vm.exceptions import ImageRejected
from media_vm.imaging import make_variants
from tests.helpers import images
from tests.helpers.corpus import shared_files


def _generated(folder: Path) -> dict[str, Path]:
    """The classes of file the gate and the VM used to disagree on, plus plain controls."""
    made = {
        "photo.jpg": images.photo_jpeg(folder / "photo.jpg", 320, 240),
        "ancillary-crc.png": images.ancillary_crc_png(folder / "ancillary-crc.png"),
        "big-xmp.png": images.big_xmp_png(folder / "big-xmp.png"),
        "truncated.jpg": images.truncated_jpeg(folder / "truncated.jpg"),
        "bomb.png": images.pixel_bomb_png(folder / "bomb.png"),
        "animated.gif": images.animated_gif(folder / "animated.gif"),
        "gamma-linear.png": images.png_with_chunks(
            folder / "gamma-linear.png", images.photo_like(64, 48).numpy(), [images.gama_chunk(1.0)]
        ),
    }
    if images.heif_enc_available():
        heic = images.heif_enc(images.photo_like(320, 240), folder / "iphone-style.heic")
        made["iphone-style.heic"] = heic
        cut = folder / "truncated.heic"
        cut.write_bytes(heic.read_bytes()[: heic.stat().st_size * 2 // 3])
        made["truncated.heic"] = cut
        made["p3.avif"] = images.heif_enc(images.photo_like(64, 48), folder / "p3.avif", avif=True, cicp=(12, 13))
    made["p3-irot.heic"] = images.heic_by_libheif_encoder(
        images.photo_like(64, 48), folder / "p3-irot.heic", cicp=(12, 13), orientation=6
    )
    return made


def _gate(path: Path) -> tuple[bool, str]:
    try:
        check_image(io.BytesIO(path.read_bytes()), field="f")
    except InvalidImage as e:
        assert "polyglot" not in str(e), f"{path.name}: refused for active content, not judged"
        return False, str(e)
    return True, ""


def _vm(path: Path, out: Path) -> tuple[bool, str]:
    try:
        make_variants(path, out, stem="v", data_type="product", avif_effort=0)
    except ImageRejected as e:
        return False, str(e)
    return True, ""


def test_every_shared_and_generated_file_gets_the_same_verdict_from_the_gate_and_the_vm(tmp_path, settings):
    """The limits come from the same numbers on both sides (the main API's settings; the VM's
    defaults): 100 MP and 500 frames."""
    assert (settings.MAX_IMAGE_PIXELS, settings.MAX_IMAGE_FRAMES) == (100_000_000, 500)
    files = {p.name: p for p in shared_files()} | {f"generated/{k}": v for k, v in _generated(tmp_path).items()}
    verdicts = {}
    for name, path in sorted(files.items()):
        gate, vm = _gate(path), _vm(path, tmp_path / "out" / name.replace("/", "_"))
        verdicts[name] = (gate[0], vm[0])
        assert gate[0] == vm[0], f"{name}: gate {'accepts' if gate[0] else 'refuses: ' + gate[1]}, " \
            f"VM {'processes it' if vm[0] else 'fails it: ' + vm[1]}"
    # the cases that used to split them, now agreed on
    assert verdicts["generated/ancillary-crc.png"] == (True, True)
    assert verdicts["generated/big-xmp.png"] == (True, True)
    assert verdicts["generated/truncated.jpg"] == (False, False)
    assert verdicts["generated/p3-irot.heic"] == (True, True)
    if "generated/iphone-style.heic" in verdicts:
        assert verdicts["generated/iphone-style.heic"] == (True, True)
        assert verdicts["generated/truncated.heic"] == (False, False)
    for name, expected in (("iphone-style.heic", True), ("ancillary-crc.png", True), ("truncated.jpg", False)):
        if name in verdicts:
            assert verdicts[name] == (expected, expected), name


def test_the_gate_takes_its_limits_from_the_settings(settings, tmp_path):
    gif = images.animated_gif(tmp_path / "a.gif", frames=4)
    settings.MAX_IMAGE_FRAMES = 3
    with pytest.raises(InvalidImage) as caught:
        check_image(io.BytesIO(gif.read_bytes()), field="f")
    assert caught.value.extra == {"field": "f", "max_frames": 3, "frames": 4}
    settings.MAX_IMAGE_FRAMES = 4
    assert check_image(io.BytesIO(gif.read_bytes()), field="f").mime_type == "image/gif"


def _media_vm_exception_imports(path: Path, source: str | None = None) -> list[str]:
    from tests.main_api.test_layering import imported_modules

    return sorted(m for m in imported_modules(path, source)
                  if m == "media_vm.exceptions" or m.startswith("media_vm.exceptions."))


def test_the_main_api_imports_no_exception_of_the_media_vm():
    """Data crosses the service line, not exceptions: the gate reads a verdict value
    (``media_vm.imaging.judging.verdict``). Every module of ``main_api`` is parsed, imports
    inside functions included."""
    from tests.main_api.test_layering import ROOT

    found = {str(path.relative_to(ROOT)): bad for path in sorted(ROOT.rglob("*.py"))
             if (bad := _media_vm_exception_imports(path))}
    assert found == {}
    probe = ROOT / "media" / "probe.py"
    assert _media_vm_exception_imports(probe, "def f():\n    from media_vm.exceptions import ImageRejected\n")
    assert _media_vm_exception_imports(probe, "from media_vm import exceptions\n")
    assert _media_vm_exception_imports(probe, "import media_vm.exceptions as e\n")
