"""An artwork through the real worker: icon, thumbnail and display only, the display marked with
the artist's name (the pending list's ``watermark``: the owner's username) in every format,
reported so, and served for the contract's size names. The whole flow through ``/api/artworks``
with real processes: tests/system/e2e/test_artworks.py."""

from __future__ import annotations

import pyvips
import requests

from tests.helpers.images import photo_jpeg
from tests.helpers.watermark import corner_and_rest, read_mark

ARTIST = "PainterAna42"


def artwork_upload(vm, token, path):
    """An upload made an artwork's image (the data type of ``POST /api/artworks``'s uploads)."""
    from main_api.media.models import Upload

    vm.upload(token, path=path)
    Upload.objects.filter(status="pending").update(data_type="artwork")


def test_an_artwork_is_made_in_its_three_sizes_the_display_marked_and_served_for_zoom_and_grid(vm, media_server):
    from main_api.media.models import Upload
    from media_vm.imaging import make_variants

    token = vm.user(ARTIST, "artist")
    artwork_upload(vm, token, photo_jpeg(vm.tmp / "big.jpg", 1500, 1000, seed=11))
    artwork_upload(vm, token, photo_jpeg(vm.tmp / "small.jpg", 500, 400, seed=12))
    assert vm.worker().work(burst=True) == 2

    for row, display in zip(vm.rows(), [(1200, 800), (500, 400)], strict=True):
        assert (row["status"], row["reported"], row["watermark"]) == ("done", True, ARTIST)
        variants = vm.repo.variants(row["media_id"])
        dims = {(v["size"], v["format"]): (v["width"], v["height"]) for v in variants}
        assert dims == {(size, fmt): wh for size, wh in (("icon", (128, 128)), ("thumbnail", (300, 300)),
                                                         ("display", display))
                        for fmt in ("avif", "webp", "jpeg")}, "exactly the three sizes, never enlarged"
        # the main API heard of those sizes alone
        image = Upload.objects.get(pk=row["main_api_id"])
        assert image.sizes_available == ["icon", "thumbnail", "display"]
        assert {v["size"] for v in image.variants} == {"icon", "thumbnail", "display"}

        # each display is the unmarked render with the name in its corner, in every format
        original = vm.settings.storage_root / row["bulk_path"]
        plain = {v.format: v for v in make_variants(original, vm.tmp / "plain" / row["media_id"], stem="p",
                                                    data_type="artwork")
                 if v.size == "display"}
        for v in variants:
            if v["size"] != "display":
                continue
            got = pyvips.Image.new_from_file(str(vm.settings.storage_root / v["path"]))
            expected = pyvips.Image.new_from_file(str(plain[v["format"]].path))
            corner, rest = corner_and_rest(got, expected)
            assert corner > 3 and rest < min(2.0, corner / 4), (v["format"], corner, rest)
            assert ARTIST in read_mark(got, expected), v["format"]

        # the contract's names answer the artwork's sizes: zoom the (marked) display, grid the thumbnail
        for asked, served in (("zoom", display), ("detail", display), ("grid", (300, 300)),
                              ("header", display), ("display", display), ("icon", (128, 128))):
            r = requests.get(f"{media_server}/serve/{row['media_id']}?size={asked}&format=webp", timeout=30)
            assert r.status_code == 200, (asked, r.text)
            image_served = pyvips.Image.new_from_buffer(r.content, "")
            assert (image_served.width, image_served.height) == served, asked
            assert r.headers["ETag"].split("-")[1] == {(128, 128): "icon", (300, 300): "thumbnail"}.get(
                served, "display"), asked
