"""``/serve``, ``/health`` and ``/metrics`` over real HTTP on loopback."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
import requests

from media_vm.config import Settings
from media_vm.http import MediaApp
from media_vm.http.negotiation import negotiate
from tests.helpers.wsgi import serving

FORMATS = ("avif", "webp", "jpeg")
KEY = "vm-test-key"


@pytest.fixture
def served(served_app):
    """A media server with one opaque image (all formats, sizes detail+thumbnail) and one logo:
    (base URL, {data type: media id}, {(media id, size, format, bg): bytes})."""
    _, base, images, contents = served_app
    return base, images, contents


@pytest.fixture
def served_app(media_db_url, tmp_path):
    """``served``, with the app first (its repository and storage)."""
    settings = replace(Settings(), database_url=media_db_url, storage_root=tmp_path / "media", main_api_key=KEY)
    app = MediaApp(settings)
    repo = app.repo
    contents = {}
    images = {}
    for main_id, data_type, has_alpha in ((1, "product", False), (2, "logo", True)):
        repo.register({"id": main_id, "user_id": 3, "image_path": "/temp_images/profiles/x.png",
                       "original_name": "x", "mime_type": "image/png", "data_type": data_type})
        claim = repo.claim_next("t")
        row = repo.media_file(claim.media_file_id)
        repo.save_analysis(claim, {"width": 2000, "height": 1000, "has_alpha": has_alpha})
        reldir = app.storage.library_reldir(3, data_type)
        variants = []
        formats = FORMATS + (("png",) if has_alpha else ())
        bgs = ("original", "removed") if data_type == "logo" else ("original",)
        for bg in bgs:
            for size in ("thumbnail", "detail"):
                for fmt in formats if bg == "original" else ("avif", "webp", "png"):
                    name = f"{row['media_id']}_{size}{'_nobg' if bg == 'removed' else ''}.{fmt}"
                    body = f"{size}/{fmt}/{bg}".encode() * 100
                    path = app.storage.path(f"{reldir}/{name}")
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(body)
                    contents[(row["media_id"], size, fmt, bg)] = body
                    variants.append({"size": size, "format": fmt, "bg": bg, "path": f"{reldir}/{name}",
                                     "width": 10, "height": 10, "bytes": len(body)})
        repo.save_variants(claim, row["media_id"], variants)
        repo.finish(claim, processing_seconds=1.0)
        images[data_type] = row["media_id"]
    with serving(app) as base:
        yield app, base, images, contents
    app.engine.dispose()


def test_negotiation_prefers_avif_then_webp_then_jpeg(served):
    base, images, contents = served
    mid = images["product"]
    cases = [
        ("image/avif,image/webp,image/*,*/*;q=0.8", "avif"),
        ("image/webp,*/*", "webp"),
        ("image/avif;q=0,image/webp", "webp"),
        ("*/*", "jpeg"),
        ("", "jpeg"),
    ]
    for accept, fmt in cases:
        r = requests.get(f"{base}/serve/{mid}?size=detail", headers={"Accept": accept})
        assert r.status_code == 200, accept
        assert r.headers["Content-Type"] == f"image/{fmt}", accept
        assert r.content == contents[(mid, "detail", fmt, "original")]
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert r.headers["Vary"] == "Accept"


def test_transparency_survives_negotiation(served):
    base, images, _ = served
    logo = images["logo"]
    r = requests.get(f"{base}/serve/{logo}?size=thumbnail", headers={"Accept": "*/*"})
    assert r.headers["Content-Type"] == "image/png"
    r = requests.get(f"{base}/serve/{logo}?size=thumbnail&bg=removed", headers={"Accept": "image/webp"})
    assert r.headers["Content-Type"] == "image/webp"
    r = requests.get(f"{base}/serve/{images['product']}?bg=removed")
    assert r.status_code == 404 and "background" in r.json()["message"]


def test_explicit_format_and_size_fallback(served):
    base, images, contents = served
    mid = images["product"]
    r = requests.get(f"{base}/serve/{mid}?size=thumbnail&format=jpg")
    assert r.headers["Content-Type"] == "image/jpeg"
    assert r.content == contents[(mid, "thumbnail", "jpeg", "original")]
    # grid (500x500) was not made: the nearest existing size (thumbnail 300x300) answers
    r = requests.get(f"{base}/serve/{mid}?size=grid&format=webp")
    assert r.status_code == 200 and r.content == contents[(mid, "thumbnail", "webp", "original")]
    # zoom falls back to detail
    r = requests.get(f"{base}/serve/{mid}?size=zoom&format=webp")
    assert r.content == contents[(mid, "detail", "webp", "original")]
    assert requests.get(f"{base}/serve/{mid}?format=png").status_code == 404


def test_etag_304_and_head(served):
    base, images, contents = served
    url = f"{base}/serve/{images['product']}?size=detail&format=webp"
    r = requests.get(url)
    etag = r.headers["ETag"]
    assert r.headers["Last-Modified"]
    again = requests.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    other = requests.get(url.replace("webp", "avif"), headers={"If-None-Match": etag})
    assert other.status_code == 200
    head = requests.head(url)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["Content-Length"]) == len(r.content)


@pytest.mark.parametrize("query,status", [
    ("size=huge", 400), ("format=gif", 400), ("bg=blue", 400),
])
def test_bad_parameters_are_400_json(served, query, status):
    base, images, _ = served
    r = requests.get(f"{base}/serve/{images['product']}?{query}")
    assert r.status_code == status
    assert r.headers["Content-Type"] == "application/json" and r.json()["message"]


def test_unknown_ids_are_404_json(served):
    base, _, _ = served
    for mid in ("0" * 32, "not-an-id", "..%2F..%2Fetc%2Fpasswd"):
        r = requests.get(f"{base}/serve/{mid}")
        assert r.status_code == 404 and r.json()["message"]
    assert requests.post(f"{base}/serve/{'0' * 32}").status_code == 405


def test_an_image_deleted_while_its_rows_are_cached_is_a_plain_404(served_app, caplog):
    """Within the cache's TTL after a deletion the files are gone: "no such image", no error
    logged (before: an ERROR "in the DB but not in the store" for every such request)."""
    app, base, images, _ = served_app
    mid = images["product"]
    url = f"{base}/serve/{mid}?size=detail&format=webp"
    assert requests.get(url).status_code == 200  # its rows are now in the variant cache
    row = app.repo.by_media_id(mid)
    app.repo.deletion_hold(main_api_id=row["main_api_id"], media_id=mid)
    for variant in app.repo.variants(mid):
        app.storage.path(variant["path"]).unlink()
    for erased in (False, True):  # between the file erasure and the row erasure, and after it
        if erased:
            app.repo.erase(row["id"])
        with caplog.at_level(logging.INFO, logger="media_vm"):
            r = requests.get(url)
        assert (r.status_code, r.json()["message"]) == (404, "no such image")
        assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert any("is being deleted" in rec.getMessage() for rec in caplog.records)


def test_a_file_the_media_db_names_but_the_store_lacks_is_logged_as_an_error(served_app, caplog):
    app, base, images, _ = served_app
    mid = images["product"]
    [variant] = [v for v in app.repo.variants(mid) if (v["size"], v["format"]) == ("detail", "webp")]
    app.storage.path(variant["path"]).unlink()
    with caplog.at_level(logging.INFO, logger="media_vm"):
        r = requests.get(f"{base}/serve/{mid}?size=detail&format=webp")
    assert (r.status_code, r.json()["message"]) == (404, "variant file missing")
    assert [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.ERROR] == [
        f"media server: variant {variant['path']} is in the DB but not in the store"]


def test_health_and_metrics(served):
    base, _, _ = served
    key = {"Authorization": f"Bearer {KEY}"}
    r = requests.get(f"{base}/health", headers=key)
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok", "storage": "ok"}
    text = requests.get(f"{base}/metrics", headers=key).text
    assert 'media_vm_jobs{state="done"} 2' in text
    assert "media_vm_processing_seconds_count 2" in text


def test_negotiate_unit():
    assert negotiate({"avif", "webp", "jpeg"}, "image/avif", needs_alpha=False) == "avif"
    assert negotiate({"webp", "jpeg", "png"}, "text/html", needs_alpha=True) == "png"
    assert negotiate({"webp", "jpeg", "png"}, "text/html", needs_alpha=False) == "jpeg"
    assert negotiate(set(), "*/*", needs_alpha=False) is None


def test_behind_nginx_serve_answers_with_x_accel_redirect(media_db_url, tmp_path):
    """With MEDIA_VM_ACCEL_REDIRECT the body is left to nginx: headers only, the file's path."""
    settings = replace(Settings(), database_url=media_db_url, storage_root=tmp_path / "media",
                       accel_redirect_prefix="/_variants/")
    app = MediaApp(settings)
    app.repo.register({"id": 9, "user_id": 3, "image_path": "/temp_images/profiles/x.jpg", "original_name": "x",
                       "mime_type": "image/jpeg", "data_type": "product"})
    claim = app.repo.claim_next("t")
    row = app.repo.media_file(claim.media_file_id)
    path = f"library/user_3/product/img/{row['media_id']}_detail.webp"
    app.repo.save_variants(claim, row["media_id"], [{"size": "detail", "format": "webp", "bg": "original",
                                                     "path": path, "width": 1, "height": 1, "bytes": 10}])
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    body = app({"PATH_INFO": f"/serve/{row['media_id']}", "REQUEST_METHOD": "GET", "QUERY_STRING": "size=detail",
                "HTTP_ACCEPT": "image/webp"}, start_response)
    assert seen["status"] == "200 OK" and list(body) == []
    assert seen["headers"]["X-Accel-Redirect"] == f"/_variants/{path}"
    assert seen["headers"]["Content-Type"] == "image/webp"
    assert seen["headers"]["Cache-Control"] == "public, max-age=31536000, immutable"
    app.engine.dispose()


def test_the_variant_cache_forgets_a_finished_image_after_its_ttl(media_db_url):
    """A deleted image must not be served from memory for long: the cache keeps a finished
    image's variants ``VARIANT_CACHE_TTL_SECONDS`` at most (30 s, inside the 60 s allowed)."""
    import time

    from media_vm.db import Repository, make_engine, migrate
    from media_vm.http.routes.serve import VARIANT_CACHE_TTL_SECONDS, VariantCache

    assert VARIANT_CACHE_TTL_SECONDS <= 30
    engine = make_engine(media_db_url)
    migrate(engine)
    repo = Repository(engine)
    repo.register({"id": 1, "user_id": 3, "image_path": "/temp_images/profiles/x.jpg",
                   "original_name": "x", "mime_type": "image/jpeg", "data_type": "product"})
    claim = repo.claim_next("t")
    row = repo.media_file(claim.media_file_id)
    repo.save_variants(claim, row["media_id"], [{"size": "detail", "format": "jpeg", "bg": "original",
                                                  "path": "library/x.jpg", "width": 1, "height": 1, "bytes": 1}])
    repo.finish(claim, processing_seconds=1.0)
    cache = VariantCache(repo, ttl=1.0)
    assert cache.lookup(row["media_id"])[0]
    repo.deletion_hold(main_api_id=1, media_id=row["media_id"])
    repo.erase(row["id"])
    assert cache.lookup(row["media_id"])[0]  # still in memory
    time.sleep(1.1)
    assert cache.lookup(row["media_id"]) == ([], False)
