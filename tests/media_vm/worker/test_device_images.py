"""Every file of ../shared/bugs and ../shared/corpus (and generated equivalents, for a fresh
clone) through upload and processing: ``PATCH /users/me`` on the live main API, then the
worker in this process, on this run's databases (SQLite, or MariaDB in CI's second run).

Each file the gate accepts must end ``done`` with its variants, and its right value is
measured on what the VM wrote: colours as mean CIE 1976 ΔE*ab against a reference computed by
another route (libheif's own decoder, littlecms), upright layout against an upright
reference, alpha of known pixels. Each file the gate refuses is one the VM refuses too
(tests/main_api/media/intake/test_one_verdict.py), so it never reaches the queue.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvips
import requests

from tests.helpers import images
from tests.helpers.colour import as_rgb, delta_e76, p3_to_srgb_lcms
from tests.helpers.corpus import CORPUS, shared_files

#: corpus files the gate refuses (and the VM would fail): unsupported formats, broken files, a bomb
REFUSED = {
    "17000x17000.avif", "favicon.ico", "invalid_multiframe.gif", "logo.svg", "small.bmp",
    "truncated.gif", "truncated.jpg", "truncated.svgz",
}


def _upload(vm, token: str, path: Path) -> int:
    r = requests.patch(
        f"{vm.api_url}/users/me", headers={"Authorization": f"Token {token}"},
        files={"product_image": (path.name, path.read_bytes(), "application/octet-stream")}, timeout=60,
    )
    assert r.status_code in (200, 400), (path.name, r.status_code, r.text)
    return r.status_code


#: The generated files: name -> how to make it in a folder (heif-enc's only where it is installed).
GENERATED = {
    "ancillary-crc.png": lambda folder: images.ancillary_crc_png(folder / "ancillary-crc.png"),
    "big-xmp.png": lambda folder: images.big_xmp_png(folder / "big-xmp.png"),
    "gamma-linear.png": lambda folder: images.png_with_chunks(
        folder / "gamma-linear.png", images.smooth_photo(320, 240), [images.gama_chunk(1.0)]),
}
if images.heif_enc_available():
    def _smooth() -> pyvips.Image:
        return pyvips.Image.new_from_array(images.smooth_photo(640, 480)).copy(interpretation="srgb")

    GENERATED["iphone-style.heic"] = lambda folder: images.heif_enc(_smooth(), folder / "iphone-style.heic")
    GENERATED["display-p3-nclx.avif"] = lambda folder: images.heif_enc(
        _smooth(), folder / "display-p3-nclx.avif", avif=True, cicp=(12, 13))

#: Every file, by the name the checks know it by: ../shared's, then the generated ones.
DEVICE_FILES = sorted([p.name for p in shared_files()] + [f"generated/{k}" for k in GENERATED])


def _device_file(name: str, folder: Path) -> Path:
    if name.startswith("generated/"):
        return GENERATED[name.removeprefix("generated/")](folder)
    [path] = [p for p in shared_files() if p.name == name]
    return path


def _zoom(vm, media_id: str, fmt: str = "jpg") -> np.ndarray:
    [path] = [p for p in vm.library_files(media_id) if p.name == f"{media_id}_zoom.{fmt}"]
    return images.read(path)


def _right_value(vm, name: str, source: Path, media_id: str) -> None:
    """Assert the right value of one processed file (see the module doc)."""
    zoom = _zoom(vm, media_id)
    if name.endswith("iphone-style.heic"):
        reference = images.heif_decoded_by_libheif(source)
        assert delta_e76(as_rgb(zoom), reference) < 2, name
    elif name.endswith("display-p3-nclx.avif"):
        stored = as_rgb(images.read(source))  # the P3 numbers, read as sRGB (the old behaviour)
        reference = p3_to_srgb_lcms(stored)
        fixed, naive = delta_e76(as_rgb(zoom), reference), delta_e76(stored, reference)
        assert fixed < 2 and naive > 5, (name, fixed, naive)
    elif name.endswith(("ancillary-crc.png", "big-xmp.png")):
        assert delta_e76(as_rgb(zoom), as_rgb(images.read(source))) < 2, name
    elif name.endswith("gamma-linear.png"):
        from tests.helpers.colour import gamma_to_srgb

        reference = gamma_to_srgb(as_rgb(images.read(source)), 1.0)
        assert delta_e76(as_rgb(zoom), reference) < 2, name
    elif name.startswith("rotation-") and name.endswith(".jpg"):
        upright = as_rgb(images.read(CORPUS / "rotation-1.jpg").resize(0.25))
        picture = as_rgb(zoom.resize(upright.shape[1] / zoom.width, vscale=upright.shape[0] / zoom.height))
        error = np.abs(picture.astype(float) - upright).mean()
        mirrored = np.abs(picture[:, ::-1].astype(float) - upright).mean()
        assert error < 8 and mirrored > 2 * error + 10, (name, error, mirrored)
    elif name == "rgba.png":
        png = _zoom(vm, media_id, "png")
        assert np.array_equal(png[3].numpy(), images.read(source)[3].numpy()), name
    elif name == "avif-orientation-6.avif":
        assert (zoom.width, zoom.height) == (1920, 2560), name  # portrait, as the phone held it
    elif name in ("cogs.gif", "dispose-background.gif"):
        first = images.read(source)  # the first frame only
        assert (zoom.width, zoom.height) == (first.width, first.height), name


@pytest.mark.corpus
@pytest.mark.parametrize("name", DEVICE_FILES)
def test_every_device_file_is_uploaded_processed_and_right(vm, name):
    """One file a test, so that the files spread over the test processes."""
    token = vm.user("phone-owner")
    path = _device_file(name, vm.tmp)
    status = _upload(vm, token, path)
    expected = 400 if name in REFUSED else 200
    assert status == expected, (name, status)
    vm.worker().work(burst=True)
    rows = vm.rows()
    assert len(rows) == (1 if status == 200 else 0)
    shown = {p["media_id"]: p for p in vm.api_images(token)}
    for row in rows:
        assert row["status"] == "done", (name, row["failure_reason"])
        variants = vm.repo.variants(row["media_id"])
        assert len(variants) >= 18, name
        assert shown[row["media_id"]]["status"] == "complete", name
        _right_value(vm, name, path, row["media_id"])
