"""``MEDIA_STORAGE_BACKEND=s3`` against a real S3-compatible server (moto's, on loopback): the
storage contract, and what only a bucket does (content types and caching of objects, a
prefix, work folders per claim, outages as ``StorageUnavailable``, redirects to signed URLs)."""

from __future__ import annotations

import os
import time
from datetime import date

import pytest
import pyvips

from media_vm.config import S3Settings, Settings
from media_vm.exceptions import StorageUnavailable, is_environmental
from media_vm.storage import IMMUTABLE, LocalStorage, make_storage
from media_vm.storage.s3 import S3Storage
from media_vm.worker.healer import scratch_max_age
from tests.helpers import images
from tests.helpers.files import files_under
from tests.helpers.processes import free_port
from tests.helpers.s3 import new_bucket
from tests.media_vm.storage.contract import StorageContract, chunks_of

DAY = date(2026, 11, 22)
MEDIA_ID = "a" * 32


def relative_files_under(root):
    return [p.relative_to(root).as_posix() for p in files_under(root)]


class TestS3Storage(StorageContract):
    signs_urls = True

    @pytest.fixture
    def make_store(self, s3_bucket):
        return lambda root: S3Storage(root, s3_bucket.settings())


@pytest.fixture
def store(s3_bucket, tmp_path):
    return S3Storage(tmp_path / "host-a", s3_bucket.settings())


def test_make_storage_picks_the_backend_the_settings_name(s3_bucket, tmp_path):
    assert type(make_storage(Settings(storage_root=tmp_path))) is LocalStorage
    s3 = make_storage(Settings(storage_root=tmp_path, storage_backend="s3", s3=s3_bucket.settings()))
    assert isinstance(s3, S3Storage) and s3.remote and s3.bucket == s3_bucket.name
    assert not isinstance(s3, LocalStorage)  # siblings, not one a kind of the other


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
    assert relative_files_under(store.root) == []
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
    assert [n for n in relative_files_under(host_b.root) if ".tmp" in n] == []


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
    assert relative_files_under(store.root / "library") == []


def test_objects_are_named_under_the_prefix(s3_endpoint, tmp_path):
    bucket = new_bucket(s3_endpoint, prefix="tenant-1/")
    store = S3Storage(tmp_path, bucket.settings())
    store.write_stream("bulk/2026-11-22/x.png", [b"png"], max_bytes=10)
    assert bucket.keys() == {"tenant-1/bulk/2026-11-22/x.png": 3}
    bucket.client.put_object(Bucket=bucket.name, Key="tenant-1/notes.txt", Body=b"not ours")
    bucket.client.put_object(Bucket=bucket.name, Key="tenant-2/bulk/2026-11-22/y.png", Body=b"another tenant")
    assert store.list_names() == ["bulk/2026-11-22/x.png"]
    store.delete_many(store.list_names("bulk/"))
    assert bucket.keys() == {"tenant-1/notes.txt": 8}
    assert bucket.get("tenant-2/bulk/2026-11-22/y.png")["Body"] == b"another tenant"


def test_a_missing_object_is_file_not_found_not_a_store_failure(store):
    with pytest.raises(FileNotFoundError) as caught:
        store.fetch(f"bulk/2026-11-22/{MEDIA_ID}.jpg")
    assert not is_environmental(caught.value)  # the step's own failure, counted against its attempts


def test_names_that_would_leave_the_tree_are_refused(store, s3_bucket):
    for name in ("library/../../etc/passwd", "bulk/x/../y.jpg", "/bulk/x.jpg", "bulk//x.jpg", "bulk/./x.jpg",
                 "bulk\\..\\x.jpg", "other/x.jpg"):
        with pytest.raises(ValueError, match="not a storage name"):
            store.key(name)
    assert s3_bucket.keys() == {}


def test_deleting_drops_the_object_and_the_working_copy(store, s3_bucket):
    one = store.for_claim("abcd1234")
    one.write_stream(f"bulk/2026-11-22/{MEDIA_ID}.jpg", [b"jpeg"], max_bytes=10)
    assert relative_files_under(one.root) == [f"bulk/2026-11-22/{MEDIA_ID}.jpg"]
    one.delete(f"bulk/2026-11-22/{MEDIA_ID}.jpg")
    assert relative_files_under(one.root) == [] and s3_bucket.keys() == {}


@pytest.mark.parametrize("where", ["unreachable", "no-such-bucket"])
def test_a_failing_store_is_environmental_and_leaves_no_file(where, s3_bucket, tmp_path):
    settings = (s3_bucket.settings(endpoint_url=f"http://127.0.0.1:{free_port()}") if where == "unreachable"
                else s3_bucket.settings(bucket="bucket-that-was-never-made"))
    store = S3Storage(tmp_path / "scratch", settings)

    with pytest.raises(StorageUnavailable) as caught:
        store.write_stream("bulk/2026-11-22/x.jpg", [b"jpeg bytes"], max_bytes=100)

    assert is_environmental(caught.value)  # the worker keeps the upload and retries with backoff
    assert isinstance(caught.value, OSError)
    assert relative_files_under(tmp_path / "scratch") == []
    assert store.health().startswith("error:")
    with pytest.raises(StorageUnavailable):  # a HEAD /serve says 503 too, not "no such variant"
        store.size("library/user_1/product/img/v_thumbnail.webp")
    with pytest.raises(StorageUnavailable):  # nor "no such object" to a caller that asks
        store.exists("library/user_1/product/img/v_thumbnail.webp")
    with pytest.raises(StorageUnavailable, match="could not list|refused to list"):
        store.list_names()  # what copy-to-bucket starts with
    with pytest.raises(StorageUnavailable):
        store.delete_many(["library/user_1/product/img/v_thumbnail.webp"])
    variant = store.path("library/user_1/product/img/v_thumbnail.webp")
    variant.parent.mkdir(parents=True)
    variant.write_bytes(b"webp")
    with pytest.raises(StorageUnavailable):
        store.publish(["library/user_1/product/img/v_thumbnail.webp"])
    assert not variant.exists()  # the step's next attempt encodes the set again


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


def test_each_claim_works_in_a_folder_of_its_own_dropped_when_done(store, s3_bucket):
    one, two = store.for_claim("aaaa1111"), store.for_claim("bbbb2222")
    relpath = one.bulk_relpath(MEDIA_ID, "image/png", DAY)
    one.write_stream(relpath, [b"png bytes"], max_bytes=100)
    two.fetch(relpath)  # e.g. a new owner on this host after a lease was lost
    assert one.path(relpath) != two.path(relpath) and one.client is store.client
    one.discard()  # the old owner lets go: the new owner's copy stays
    assert two.fetch(relpath).read_bytes() == b"png bytes"
    assert relative_files_under(store.work_root) == [f"bbbb2222/{relpath}"]
    two.discard()
    assert relative_files_under(store.work_root) == [] and s3_bucket.keys() == {relpath: 9}


def test_abandoned_work_folders_are_swept_the_rest_kept(store, tmp_path):
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


def test_redirects_only_when_configured_so(s3_bucket, tmp_path):
    relpath = "library/user_1/product/img/x_grid.webp"
    assert S3Storage(tmp_path, s3_bucket.settings(serve="stream")).redirect(relpath) is None
    redirect = S3Storage(tmp_path, s3_bucket.settings(serve="redirect", url_expires=600)).redirect(relpath)
    assert redirect is not None and redirect.max_age == 300  # a client keeps it for half the URL's life
    assert "X-Amz-Signature=" in redirect.url and "X-Amz-Expires=600" in redirect.url


def test_a_signed_url_is_reused_for_a_quarter_of_its_life_then_signed_again(s3_bucket, tmp_path, monkeypatch):
    import media_vm.storage.s3 as s3_module

    store = S3Storage(tmp_path / "vm", s3_bucket.settings(serve="redirect", url_expires=600))
    relpath = "library/user_1/product/img/x_grid.webp"
    clock = [1_800_000_000.0]
    monkeypatch.setattr(s3_module.time, "time", lambda: clock[0])
    signed = []
    sign = store.signed_url
    monkeypatch.setattr(store, "signed_url", lambda name, **kw: signed.append(name) or sign(name, **kw))

    first = store.redirect(relpath).url
    clock[0] += 149  # within a quarter of 600 s: the same URL, still valid 451 s > the 300 s max-age
    assert store.redirect(relpath).url == first and signed == [relpath]
    clock[0] += 2  # past it: signed anew
    assert "X-Amz-Expires=600" in store.redirect(relpath).url and signed == [relpath, relpath]
    other = "library/user_1/product/img/x_zoom.webp"
    assert other in store.redirect(other).url and signed[-1] == other
