"""``MEDIA_STORAGE_BACKEND=s3`` against a real S3-compatible server (moto's, on loopback):
originals and variants land in the bucket, a host fetches what another host stored, the
store's failures are environmental, and ``/serve`` streams objects or redirects to them."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date
from wsgiref.simple_server import make_server

import pytest
import pyvips
import requests

from media_vm.config import S3Settings, Settings
from media_vm.exceptions import StorageUnavailable, is_environmental
from media_vm.server import MediaServer
from media_vm.storage import IMMUTABLE, LocalStorage, make_storage
from media_vm.storage.s3 import S3Storage
from tests.e2e.system import free_port
from tests.helpers import images
from tests.helpers.s3 import new_bucket
from tests.media_vm.test_server import QuietHandler

DAY = date(2026, 11, 22)
MEDIA_ID = "a" * 32


def chunks_of(data: bytes, size: int = 1000):
    return (data[i:i + size] for i in range(0, len(data), size))


def files_under(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def store(s3_bucket, tmp_path):
    return S3Storage(tmp_path / "host-a", s3_bucket.settings())


def test_make_storage_picks_the_backend_the_settings_name(s3_bucket, tmp_path):
    assert type(make_storage(Settings(storage_root=tmp_path))) is LocalStorage
    s3 = make_storage(Settings(storage_root=tmp_path, storage_backend="s3", s3=s3_bucket.settings()))
    assert isinstance(s3, S3Storage) and s3.remote and s3.bucket == s3_bucket.name


def test_an_original_is_uploaded_and_its_working_copy_kept_until_forgotten(store, s3_bucket, tmp_path):
    data = images.photo_jpeg(tmp_path / "p.jpg", 640, 480).read_bytes()
    relpath = store.bulk_relpath(MEDIA_ID, "image/jpeg", DAY)

    assert store.write_stream(relpath, chunks_of(data), max_bytes=10_000_000) == len(data)

    assert relpath == f"bulk/2026-11-22/{MEDIA_ID}.jpg"
    stored = s3_bucket.get(relpath)
    assert stored["Body"] == data
    assert stored["ContentType"] == "image/jpeg" and stored["CacheControl"] == "private, no-store"
    assert store.fetch(relpath).read_bytes() == data  # the working copy, no download
    store.forget(relpath)
    assert files_under(store.root) == []
    assert s3_bucket.keys() == {relpath: len(data)}  # the store keeps it


def test_another_host_fetches_the_original_from_the_store(store, s3_bucket, tmp_path):
    data = images.photo_jpeg(tmp_path / "p.jpg", 300, 200).read_bytes()
    relpath = store.bulk_relpath(MEDIA_ID, "image/jpeg", DAY)
    store.write_stream(relpath, chunks_of(data), max_bytes=10_000_000)
    host_b = S3Storage(tmp_path / "host-b", s3_bucket.settings())

    local = host_b.fetch(relpath)

    assert local == (tmp_path / "host-b" / "s3-work" / "shared" / relpath).resolve()
    assert local.read_bytes() == data
    assert pyvips.Image.new_from_file(str(local)).width == 300
    assert [n for n in files_under(host_b.root) if ".tmp" in n] == []


def test_variants_are_published_with_their_types_and_immutable_caching_then_leave_the_scratch(store, s3_bucket):
    reldir = store.library_reldir(7, "product")
    bodies = {f"{reldir}/{MEDIA_ID}_thumbnail.{ext}": ext.encode() * 50 for ext in ("avif", "webp", "jpg", "png")}
    for relpath, body in bodies.items():
        path = store.path(relpath)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)

    store.publish(list(bodies))

    assert s3_bucket.keys("library/") == {k: len(v) for k, v in bodies.items()}
    types = {}
    for relpath, body in bodies.items():
        stored = s3_bucket.get(relpath)
        assert stored["Body"] == body and stored["CacheControl"] == IMMUTABLE
        types[relpath.rsplit(".", 1)[1]] = stored["ContentType"]
    assert types == {"avif": "image/avif", "webp": "image/webp", "jpg": "image/jpeg", "png": "image/png"}
    assert files_under(store.root / "library") == []


def test_objects_are_named_under_the_prefix(s3_endpoint, tmp_path):
    bucket = new_bucket(s3_endpoint, prefix="tenant-1/")
    store = S3Storage(tmp_path, bucket.settings())
    store.write_stream("bulk/2026-11-22/x.png", [b"png"], max_bytes=10)
    assert bucket.keys() == {"tenant-1/bulk/2026-11-22/x.png": 3}


def test_a_missing_object_is_file_not_found_not_a_store_failure(store):
    with pytest.raises(FileNotFoundError) as caught:
        store.fetch(f"bulk/2026-11-22/{MEDIA_ID}.jpg")
    assert not is_environmental(caught.value)  # the step's own failure, counted against its attempts
    with pytest.raises(FileNotFoundError):
        store.open_stored("library/user_1/product/img/nothing.webp")
    with pytest.raises(FileNotFoundError):
        store.stored_size("library/user_1/product/img/nothing.webp")


def test_names_that_would_leave_the_tree_are_refused(store, s3_bucket):
    with pytest.raises(ValueError):
        store.write_stream("../outside.jpg", [b"x"], max_bytes=10)
    for name in ("library/../../etc/passwd", "bulk/x/../y.jpg", "/bulk/x.jpg", "bulk//x.jpg", "bulk/./x.jpg",
                 "bulk\\..\\x.jpg", "other/x.jpg"):
        with pytest.raises(ValueError, match="not a storage name"):
            store.key(name)
    with pytest.raises(ValueError):
        store.for_claim("../elsewhere")
    assert s3_bucket.keys() == {}


def test_an_original_over_the_cap_is_refused_and_nothing_is_stored(store, s3_bucket):
    with pytest.raises(ValueError, match="larger than"):
        store.write_stream("bulk/2026-11-22/big.jpg", chunks_of(b"x" * 5000), max_bytes=4000)
    assert s3_bucket.keys() == {} and files_under(store.root) == []


@pytest.mark.parametrize("where", ["unreachable", "no-such-bucket"])
def test_a_failing_store_is_environmental_and_leaves_no_file(where, s3_bucket, tmp_path):
    settings = (s3_bucket.settings(endpoint_url=f"http://127.0.0.1:{free_port()}") if where == "unreachable"
                else s3_bucket.settings(bucket="bucket-that-was-never-made"))
    store = S3Storage(tmp_path / "scratch", settings)

    with pytest.raises(StorageUnavailable) as caught:
        store.write_stream("bulk/2026-11-22/x.jpg", [b"jpeg bytes"], max_bytes=100)

    assert is_environmental(caught.value)  # the worker keeps the upload and retries with backoff
    assert isinstance(caught.value, OSError)
    assert files_under(tmp_path / "scratch") == []
    assert store.health().startswith("error:")
    with pytest.raises(StorageUnavailable):  # a HEAD /serve says 503 too, not "no such variant"
        store.stored_size("library/user_1/product/img/v_thumbnail.webp")
    with pytest.raises(StorageUnavailable, match="could not list|refused to list"):
        store.stored_keys()  # what copy-to-bucket starts with
    variant = store.path("library/user_1/product/img/v_thumbnail.webp")
    variant.parent.mkdir(parents=True)
    variant.write_bytes(b"webp")
    with pytest.raises(StorageUnavailable):
        store.publish(["library/user_1/product/img/v_thumbnail.webp"])
    assert not variant.exists()  # the step's next attempt encodes the set again


def test_health_checks_the_bucket_and_the_scratch_space(store, tmp_path):
    assert store.health() == "ok"
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    assert "not writable" in S3Storage(blocked / "scratch", store.settings).health()


def test_settings_from_the_environment(monkeypatch, tmp_path):
    base = {"MEDIA_STORAGE_BACKEND": "s3", "MEDIA_S3_BUCKET": "media", "MEDIA_S3_PREFIX": "/prod/",
            "MEDIA_S3_ENDPOINT_URL": "https://acc.r2.cloudflarestorage.com/", "MEDIA_S3_REGION": "auto",
            "MEDIA_S3_SERVE": "redirect", "MEDIA_S3_URL_EXPIRES": "600"}
    for name, value in base.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    assert settings.storage_backend == "s3"
    assert settings.s3 == S3Settings(bucket="media", prefix="prod/", endpoint_url="https://acc.r2.cloudflarestorage.com",
                                     region="auto", serve="redirect", url_expires=600)
    monkeypatch.setenv("MEDIA_S3_SECRET_ACCESS_KEY", "very-secret")
    assert "very-secret" not in repr(Settings.from_env())

    for name, value, message in (
        ("MEDIA_STORAGE_BACKEND", "ftp", "MEDIA_STORAGE_BACKEND must be one of local, s3"),
        ("MEDIA_S3_BUCKET", "", "needs MEDIA_S3_BUCKET"),
        ("MEDIA_S3_SERVE", "proxy", "MEDIA_S3_SERVE must be one of stream, redirect"),
        ("MEDIA_S3_URL_EXPIRES", "10", "MEDIA_S3_URL_EXPIRES must be"),
        ("MEDIA_S3_ADDRESSING_STYLE", "dns", "MEDIA_S3_ADDRESSING_STYLE must be"),
        ("MEDIA_VM_ACCEL_REDIRECT", "/_variants/", "MEDIA_VM_ACCEL_REDIRECT sends files from the local disk"),
    ):
        with monkeypatch.context() as m:
            m.setenv(name, value)
            with pytest.raises(ValueError, match=message):
                Settings.from_env()
    monkeypatch.delenv("MEDIA_S3_ENDPOINT_URL")
    monkeypatch.delenv("MEDIA_S3_REGION")
    with pytest.raises(ValueError, match="AWS S3 .* needs MEDIA_S3_REGION"):
        Settings.from_env()  # else URLs would be signed for us-east-1 whatever the bucket's region
    monkeypatch.setenv("MEDIA_S3_REGION", "eu-central-1")
    assert Settings.from_env().s3.endpoint_url == ""
    monkeypatch.delenv("MEDIA_STORAGE_BACKEND")
    assert Settings.from_env().s3 is None  # the local backend needs none of them


# -- /serve from the bucket ---------------------------------------------------------------


@pytest.fixture(params=["stream", "redirect"])
def served_from_s3(request, s3_bucket, media_db_url, tmp_path):
    """A media server on the bucket with one finished image whose variants were published."""
    settings = replace(Settings(), database_url=media_db_url, storage_root=tmp_path / "vm",
                       storage_backend="s3", s3=s3_bucket.settings(serve=request.param, url_expires=600))
    app = MediaServer(settings)
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
    server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield request.param, f"http://127.0.0.1:{server.server_port}", row["media_id"], bodies, s3_bucket
    server.shutdown()
    app.engine.dispose()


def test_serve_answers_from_the_bucket(served_from_s3):
    mode, base, media_id, bodies, _ = served_from_s3
    assert requests.get(f"{base}/health", timeout=10).json()["storage"] == "ok"

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
        assert gone.status_code == 404 and gone.json() == {"message": "variant file missing"}
    else:  # the signed URL is made without asking the store; the store answers 404 itself
        assert requests.get(gone.headers["Location"], timeout=10).status_code == 404


def test_serve_and_health_say_when_the_store_is_unreachable(s3_bucket, media_db_url, tmp_path):
    dead = s3_bucket.settings(endpoint_url=f"http://127.0.0.1:{free_port()}")
    app = MediaServer(replace(Settings(), database_url=media_db_url, storage_root=tmp_path / "vm",
                              storage_backend="s3", s3=dead))
    app.repo.register({"id": 1, "user_id": 3, "image_path": "/temp_images/profiles/x.jpg",
                       "original_name": "x", "mime_type": "image/jpeg", "data_type": "product"})
    claim = app.repo.claim_next("t")
    row = app.repo.media_file(claim.media_file_id)
    app.repo.save_variants(claim, row["media_id"], [
        {"size": "detail", "format": "jpeg", "bg": "original", "width": 10, "height": 10, "bytes": 100,
         "path": f"library/user_3/product/img/{row['media_id']}_detail.jpg"}])
    app.repo.finish(claim, processing_seconds=1.0)
    server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        r = requests.get(f"{base}/serve/{row['media_id']}?size=detail", timeout=30)
        assert r.status_code == 503 and r.json() == {"message": "storage unavailable"}
        assert r.headers["Cache-Control"] == "no-store"
        health = requests.get(f"{base}/health", timeout=30)
        assert health.status_code == 503
        assert health.json()["storage"] == "error: object store unreachable (EndpointConnectionError)"
    finally:
        server.shutdown()
        app.engine.dispose()


def test_each_claim_works_in_a_folder_of_its_own_dropped_when_done(store, s3_bucket):
    one, two = store.for_claim("aaaa1111"), store.for_claim("bbbb2222")
    relpath = one.bulk_relpath(MEDIA_ID, "image/png", DAY)
    one.write_stream(relpath, [b"png bytes"], max_bytes=100)
    two.fetch(relpath)  # e.g. a new owner on this host after a lease was lost
    assert one.path(relpath) != two.path(relpath) and one.client is store.client
    one.discard()  # the old owner lets go: the new owner's copy stays
    assert two.fetch(relpath).read_bytes() == b"png bytes"
    assert files_under(store.work_root) == [f"bbbb2222/{relpath}"]
    two.discard()
    assert files_under(store.work_root) == [] and s3_bucket.keys() == {relpath: 9}


def test_abandoned_work_folders_are_swept_the_rest_kept(store, tmp_path):
    import os
    import time

    from media_vm.healer import scratch_max_age

    long_ago = time.time() - scratch_max_age(300) - 60
    abandoned, busy = store.for_claim("deadbeef"), store.for_claim("cafe0001")
    for workspace, name in ((abandoned, "bulk/2026-11-20/old.jpg"), (busy, "bulk/2026-11-20/older.jpg")):
        path = workspace.path(name)
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x")
        for p in (path, *path.parents):
            if p == store.work_root:
                break
            os.utime(p, (long_ago, long_ago))
    busy.path("library/user_1/product/img/x_grid.avif").parent.mkdir(parents=True)
    busy.path("library/user_1/product/img/x_grid.avif").write_bytes(b"x")  # written just now
    old_tree = store.work_root.parent / "bulk" / "2020-01-01" / "kept.jpg"  # the local backend's tree
    old_tree.parent.mkdir(parents=True)
    old_tree.write_bytes(b"x")
    os.utime(old_tree, (long_ago, long_ago))

    assert store.sweep_working_copies(older_than=scratch_max_age(300)) == 1
    assert not abandoned.root.exists() and busy.root.exists()
    assert old_tree.exists()  # never touched: moving to a bucket keeps the old files until you delete them
    assert scratch_max_age(7200) == 14400  # never shorter than two leases
    assert LocalStorage(tmp_path).sweep_working_copies(older_than=0) == 0  # local files are the store


def test_a_signed_url_is_reused_for_a_quarter_of_its_life_then_signed_again(s3_bucket, media_db_url, tmp_path,
                                                                            monkeypatch):
    import media_vm.server as server_module

    app = MediaServer(replace(Settings(), database_url=media_db_url, storage_root=tmp_path / "vm",
                              storage_backend="s3", s3=s3_bucket.settings(serve="redirect", url_expires=600)))
    relpath = "library/user_1/product/img/x_grid.webp"
    clock = [1_800_000_000.0]
    monkeypatch.setattr(server_module.time, "time", lambda: clock[0])
    signed = []
    sign = app.storage.signed_url
    monkeypatch.setattr(app.storage, "signed_url", lambda name: signed.append(name) or sign(name))

    first = app.signed_url(relpath, 600)
    clock[0] += 149  # within a quarter of 600 s: the same URL, still valid 451 s > the 300 s max-age
    assert app.signed_url(relpath, 600) == first and signed == [relpath]
    clock[0] += 2  # past it: signed anew
    assert "X-Amz-Expires=600" in app.signed_url(relpath, 600) and signed == [relpath, relpath]
    other = "library/user_1/product/img/x_zoom.webp"
    assert other in app.signed_url(other, 600) and signed[-1] == other
    app.engine.dispose()
