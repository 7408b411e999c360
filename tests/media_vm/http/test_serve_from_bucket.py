"""``/serve`` with ``MEDIA_STORAGE_BACKEND=s3`` against a real S3-compatible server (moto's, on
loopback): it streams objects or redirects to signed URLs, and says 503 when the store is away.
The storage backend itself is tested in ``tests/media_vm/storage/``."""

from __future__ import annotations

from dataclasses import replace

import pytest
import pyvips
import requests

from media_vm.config import Settings
from media_vm.http import MediaApp
from media_vm.storage import IMMUTABLE
from tests.helpers import images
from tests.helpers.processes import free_port
from tests.helpers.wsgi import serving

KEY = "vm-test-key"
KEY_HEADER = {"Authorization": f"Bearer {KEY}"}

# -- /serve from the bucket ---------------------------------------------------------------


@pytest.fixture(params=["stream", "redirect"])
def served_from_s3(request, s3_bucket, media_db_url, tmp_path):
    """A media server on the bucket with one finished image whose variants were published."""
    settings = replace(Settings(), database_url=media_db_url, storage_root=tmp_path / "vm",
                       storage_backend="s3", s3=s3_bucket.settings(serve=request.param, url_expires=600),
                       main_api_key=KEY)
    app = MediaApp(settings)
    repo = app.repo
    repo.register({"id": 1, "user_id": 3, "image_path": "/temp_images/profiles/x.jpg",
                   "original_name": "x", "mime_type": "image/jpeg", "data_type": "product"})
    claim = repo.claim_next("t")
    row = repo.media_file(claim.media_file_id)
    repo.save_analysis(claim, {"width": 640, "height": 480, "has_alpha": False})
    reldir = app.storage.library_reldir(3, "product")
    picture = images.photo_like(320, 240)
    variants, bodies = [], {}
    for fmt, ext in (("avif", "avif"), ("webp", "webp"), ("jpeg", "jpg")):
        relpath = f"{reldir}/{row['media_id']}_detail.{ext}"
        body = picture.write_to_buffer(f".{ext}")
        path = app.storage.path(relpath)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        bodies[fmt] = body
        variants.append({"size": "detail", "format": fmt, "bg": "original", "path": relpath,
                         "width": 320, "height": 240, "bytes": len(body)})
    app.storage.publish([v["path"] for v in variants])
    repo.save_variants(claim, row["media_id"], variants)
    repo.finish(claim, processing_seconds=1.0)
    with serving(app) as base:
        yield request.param, base, row["media_id"], bodies, s3_bucket
    app.engine.dispose()


def test_serve_answers_from_the_bucket(served_from_s3):
    mode, base, media_id, bodies, _ = served_from_s3
    assert requests.get(f"{base}/health", headers=KEY_HEADER, timeout=10).json()["storage"] == "ok"

    r = requests.get(f"{base}/serve/{media_id}?size=detail", headers={"Accept": "image/avif,image/webp"},
                     allow_redirects=False, timeout=10)

    if mode == "stream":
        assert r.status_code == 200 and r.headers["Content-Type"] == "image/avif"
        assert r.headers["Cache-Control"] == IMMUTABLE and r.headers["Vary"] == "Accept"
        assert r.content == bodies["avif"]
        body = r.content
    else:
        assert r.status_code == 302 and r.content == b""
        assert r.headers["Cache-Control"] == "private, max-age=300"  # the browser's, for half the URL's life
        assert "X-Amz-Signature=" in r.headers["Location"] and "X-Amz-Expires=600" in r.headers["Location"]
        signed = requests.get(r.headers["Location"], timeout=10)  # what a browser does next
        assert signed.status_code == 200 and signed.headers["Content-Type"] == "image/avif"
        assert signed.headers["Cache-Control"] == IMMUTABLE
        body = signed.content
    assert body == bodies["avif"]
    decoded = pyvips.Image.new_from_buffer(body, "")
    assert (decoded.width, decoded.height) == (320, 240)

    jpeg = requests.get(f"{base}/serve/{media_id}?size=detail", headers={"Accept": "*/*"}, timeout=10)
    assert jpeg.status_code == 200 and jpeg.content == bodies["jpeg"]  # redirects followed, as browsers do
    assert pyvips.Image.new_from_buffer(jpeg.content, "").get("vips-loader") == "jpegload_buffer"


def test_serve_from_the_bucket_keeps_etags_head_and_missing_objects_honest(served_from_s3):
    mode, base, media_id, bodies, bucket = served_from_s3
    url = f"{base}/serve/{media_id}?size=detail&format=webp"
    first = requests.get(url, allow_redirects=False, timeout=10)

    if mode == "stream":
        assert first.status_code == 200 and first.headers["ETag"]
        head = requests.head(url, timeout=10)
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["Content-Length"]) == len(bodies["webp"])
        again = requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
        assert again.status_code == 304 and again.content == b""
    else:
        assert first.status_code == 302 and "ETag" not in first.headers

    bucket.client.delete_object(Bucket=bucket.name, Key=f"library/user_3/product/img/{media_id}_detail.webp")
    gone = requests.get(url, allow_redirects=False, timeout=10)
    if mode == "stream":
        assert gone.status_code == 404 and gone.json() == {"message": "variant file missing", "extra": {}}
    else:  # the signed URL is made without asking the store; the store answers 404 itself
        assert requests.get(gone.headers["Location"], timeout=10).status_code == 404


def test_serve_and_health_say_when_the_store_is_unreachable(s3_bucket, media_db_url, tmp_path):
    dead = s3_bucket.settings(endpoint_url=f"http://127.0.0.1:{free_port()}")
    app = MediaApp(replace(Settings(), database_url=media_db_url, storage_root=tmp_path / "vm",
                              storage_backend="s3", s3=dead, main_api_key=KEY))
    app.repo.register({"id": 1, "user_id": 3, "image_path": "/temp_images/profiles/x.jpg",
                       "original_name": "x", "mime_type": "image/jpeg", "data_type": "product"})
    claim = app.repo.claim_next("t")
    row = app.repo.media_file(claim.media_file_id)
    app.repo.save_variants(claim, row["media_id"], [
        {"size": "detail", "format": "jpeg", "bg": "original", "width": 10, "height": 10, "bytes": 100,
         "path": f"library/user_3/product/img/{row['media_id']}_detail.jpg"}])
    app.repo.finish(claim, processing_seconds=1.0)
    try:
        with serving(app) as base:
            r = requests.get(f"{base}/serve/{row['media_id']}?size=detail", timeout=30)
            assert r.status_code == 503 and r.json() == {"message": "storage unavailable", "extra": {}}
            assert r.headers["Cache-Control"] == "no-store"
            assert requests.get(f"{base}/health", timeout=30).json() == {"status": "unhealthy"}  # anonymous
            health = requests.get(f"{base}/health", headers=KEY_HEADER, timeout=30)
            assert health.status_code == 503
            assert health.json()["storage"] == "error: object store unreachable (EndpointConnectionError)"
    finally:
        app.engine.dispose()
