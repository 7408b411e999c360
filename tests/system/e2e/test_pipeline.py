"""Uploads through the main API become variants on the media VM: real processes, real HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import pyvips
import requests

from tests.helpers import images
from tests.helpers.corpus import corpus_file, requires_corpus
from tests.helpers.variants import check_clean, check_geometry, fetch

FORMATS = ("avif", "webp", "jpeg")
SIZES = ("thumbnail", "grid", "small", "detail", "header", "zoom")


@pytest.fixture(scope="module")
def processed(system, tmp_path_factory):
    """One artist uploads every field's worth of images; one worker drains the queue."""
    tmp = tmp_path_factory.mktemp("uploads")
    token = system.create_user("ada", "artist")
    uploads = {}
    for orientation in range(1, 9):
        path = images.oriented_jpeg(tmp / f"o{orientation}.jpg", orientation, width=800, height=500)
        r = system.upload(token, {"product_image": path})
        assert r.status_code == 200, r.text
        uploads[f"orientation-{orientation}"] = path
    big = images.photo_jpeg(tmp / "big.jpg", 2200, 1600, quality=80)
    logo = tmp / "logo.png"
    images.logo(logo)
    rgba = images.rgba_png(tmp / "rgba.png")
    gif = images.animated_gif(tmp / "anim.gif")
    r = system.upload(token, {"profile_image": big, "logo_image": logo, "site_image": rgba, "event_image": gif})
    assert r.status_code == 200, r.text
    uploads.update(big=big, logo=logo, rgba=rgba, gif=gif)
    run = system.worker("--once", "--concurrency", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    rows = {Path(r["image_path"]).name: r for r in system.media_rows()}
    return token, uploads, rows


def row_for(rows, original_name):
    return next(r for r in rows.values() if r["original_name"] == original_name)


def test_every_upload_is_processed_once(system, processed):
    _, uploads, rows = processed
    assert len(rows) == len(uploads)
    for row in rows.values():
        assert row["status"] == "done", row
        checklist = system.checklist(row["id"])
        assert {s["status"] for s in checklist.values()} == {"done"}
        assert {s["attempts"] for s in checklist.values()} == {1}
    assert system.pending() == []


def test_original_kept_untouched_in_bulk(system, processed):
    _, uploads, rows = processed
    for key, path in uploads.items():
        row = row_for(rows, path.name)
        assert re.fullmatch(r"bulk/\d{4}-\d{2}-\d{2}/[0-9a-f]{32}\.(jpg|png|gif)", row["bulk_path"]), row["bulk_path"]
        assert (system.storage_root / row["bulk_path"]).read_bytes() == path.read_bytes(), key


def test_variants_all_sizes_and_formats(system, processed):
    _, uploads, rows = processed
    row = row_for(rows, uploads["big"].name)
    lib = system.storage_root / f"library/user_{row['user_id']}/profile/img"
    assert lib.is_dir() and not list(lib.glob(".*tmp*"))
    for size in SIZES:
        for fmt in FORMATS:
            image = fetch(system.vm_url, row["media_id"], size=size, fmt=fmt)
            check_geometry(image, size, (2200, 1600))
            check_clean(image)
            assert image.bands == 3


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_comes_out_upright(system, processed, orientation):
    _, uploads, rows = processed
    row = row_for(rows, uploads[f"orientation-{orientation}"].name)
    upright = images.upright_orientation_picture(800, 500)
    for fmt in ("jpeg", "webp"):
        image = fetch(system.vm_url, row["media_id"], size="small", fmt=fmt)
        assert (image.width, image.height) == (640, 400)
        check_clean(image)
        for corner, (x, y) in {"top_left": (0, 0), "top_right": (3, 0), "bottom_left": (0, 3),
                               "bottom_right": (3, 3)}.items():
            bw, bh = image.width // 4, image.height // 4
            got = images.region_mean(image, x * bw + bw // 4, y * bh + bh // 4, bw // 2, bh // 2)[:3]
            want = upright[y * 125 + 60, x * 200 + 100].astype(float)
            assert np.abs(got - want).max() < 40, (orientation, fmt, corner, got, want)


def test_transparency_and_logo_background_removal(system, processed):
    _, uploads, rows = processed
    rgba = row_for(rows, uploads["rgba"].name)
    png = fetch(system.vm_url, rgba["media_id"], size="thumbnail", fmt="png")
    # rgba.png: a transparent margin around an opaque disc, a half-transparent band on top
    assert png.hasalpha()
    assert png.getpoint(0, png.height // 2)[3] == 0
    assert png.getpoint(png.width // 2, png.height // 2)[3] == 255
    assert 100 < png.getpoint(png.width // 2, 2)[3] < 160
    jpeg = fetch(system.vm_url, rgba["media_id"], size="thumbnail", fmt="jpeg")
    assert not jpeg.hasalpha()
    logo = row_for(rows, uploads["logo"].name)
    removed = fetch(system.vm_url, logo["media_id"], size="small", fmt="png", bg="removed")
    assert removed.hasalpha()
    assert removed.getpoint(0, 0)[3] == 0, "the white border should be transparent"
    assert fetch(system.vm_url, logo["media_id"], size="small", fmt="png").getpoint(0, 0)[3:] in ([], [255.0])


def test_animated_gif_uses_its_first_frame(system, processed):
    _, uploads, rows = processed
    gif = row_for(rows, uploads["gif"].name)
    image = fetch(system.vm_url, gif["media_id"], size="small", fmt="webp")
    assert (image.width, image.height) == (120, 90)
    r, g, b = images.region_mean(image, 40, 30, 40, 30)[:3]
    assert r > 150 and g < 100 and b < 100, "first frame is red"


def test_smart_urls_at_completion_and_negotiation_through_the_proxy(system, processed):
    token, uploads, rows = processed
    big = row_for(rows, uploads["big"].name)
    smart = f"{system.api_url}/api/images/{big['media_id']}?size=detail"
    # the references followed each completion in its transaction: no scheduler runs here
    before = system.me(token)
    assert before["profile_image_path"] == smart
    assert {p["status"] for p in before["pending_images"]} == {"complete"}
    assert "completed 0 image(s)" in system.manage("replace_temp_urls"), "nothing is left for the sweeper"
    after = system.me(token)
    assert after["profile_image_path"] == smart
    assert "/temp_images/" not in repr(after)
    assert {p["status"] for p in after["pending_images"]} == {"complete"}
    proxy = f"{system.api_url}/api/images/{big['media_id']}"
    for accept, mime in (("image/avif,image/webp,*/*", "image/avif"), ("image/webp,*/*", "image/webp"),
                         ("*/*", "image/jpeg")):
        r = requests.get(proxy, params={"size": "thumbnail"}, headers={"Accept": accept}, timeout=30)
        assert r.status_code == 200 and r.headers["Content-Type"] == mime
        assert r.headers["Cache-Control"] == "public, max-age=3600"
        assert "Accept" in r.headers["Vary"]
        decoded = pyvips.Image.new_from_buffer(r.content, "")
        assert (decoded.width, decoded.height) == (300, 300)
    etag = r.headers["ETag"]
    again = requests.get(proxy, params={"size": "thumbnail"}, headers={"Accept": "*/*", "If-None-Match": etag},
                         timeout=30)
    assert again.status_code == 304




@pytest.mark.corpus
@requires_corpus
def test_corpus_rotations_all_come_out_upright(system):
    """rotation-1..8.jpg (the same labelled photo under EXIF orientations 1-8) all end upright.

    The corpus' rotation-0.png is a different picture, so orientation 1 is the reference;
    each variant must be far closer to it than to any mirrored or turned copy of it.
    """
    token = system.create_user("corpus-rotations", "community")
    names = [f"rotation-{n}.jpg" for n in range(1, 9)]
    for name in names:
        r = system.upload(token, {"product_image": corpus_file(name)})
        assert r.status_code == 200, (name, r.text)
    run = system.worker("--once", "--concurrency", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    rows = {r["original_name"]: r for r in system.media_rows() if r["original_name"] in names}
    assert len(rows) == 8

    def small(name):
        image = fetch(system.vm_url, rows[name]["media_id"], size="small", fmt="webp")
        check_clean(image)
        assert image.height > image.width, (name, "portrait when upright")
        return image.thumbnail_image(150, height=200, size="force").cast("float")

    reference = small("rotation-1.jpg")
    wrong = {"mirrored": reference.fliphor(), "flipped": reference.flipver(), "turned": reference.rot180()}
    for name in names[1:]:
        image = small(name)
        upright = (image - reference).abs().avg()
        for label, other in wrong.items():
            assert upright * 2 < (image - other).abs().avg(), (name, label, upright)
