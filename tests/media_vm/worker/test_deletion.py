"""Deleting uploads and accounts end to end (issue 14): real HTTP to the main API, its real
database, the real worker in this process, local storage and the S3 bucket. After a deletion
and the worker's next pass nothing of the image is left: no object of its media id in the
store, no row in the media DB, ``/api/images/{media_id}`` and the VM's ``/serve`` answer 404."""

from __future__ import annotations

from dataclasses import replace

import pytest
import requests

from main_api.media.models import MediaDeletion, Upload
from tests.helpers.wsgi import serving


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def delete_upload(vm, token: str, upload_id: int) -> requests.Response:
    return requests.delete(f"{vm.api_url}/api/uploads/{upload_id}", headers=auth(token), timeout=30)


def stored_names(storage, media_id: str) -> list[str]:
    return [name for name in storage.list_names() if media_id in name]


def processed_upload(vm, token: str, field: str = "profile_image", worker=None, seed: int | None = None
                     ) -> Upload:
    """One upload, processed by the worker (its completion completes it): the field holds its
    smart URL."""
    vm.upload(token, field, seed=seed)
    image = Upload.objects.filter(status=Upload.Status.PENDING).latest("id")
    (worker or vm.worker()).work(burst=True)
    image.refresh_from_db()
    assert image.status == Upload.Status.COMPLETE, image.failure_reason
    return image


def assert_erased(vm, storage, media_id: str, media_server: str) -> None:
    assert stored_names(storage, media_id) == []
    assert [r for r in vm.rows() if r["media_id"] == media_id] == []
    assert vm.repo.variants(media_id) == [] and vm.repo.fingerprint(media_id) is None
    assert requests.get(f"{media_server}/serve/{media_id}?size=thumbnail", timeout=30).status_code == 404
    assert requests.get(f"{vm.api_url}/api/images/{media_id}?size=thumbnail", timeout=30).status_code == 404
    assert MediaDeletion.objects.filter(done_at__isnull=True).count() == 0


def test_a_deleted_upload_is_erased_from_local_storage(vm, media_server):
    from main_api.users.models import UserProfile

    token = vm.user("painter", "artist")
    image = processed_upload(vm, token)
    media_id = image.media_id
    temp = vm.temp_dir / image.image_path.removeprefix("/temp_images/")
    assert temp.is_file()
    assert UserProfile.objects.get().profile_image_path.endswith(f"/{media_id}?size=detail")
    assert stored_names(vm.storage, media_id)
    assert any(n.startswith("bulk/") for n in stored_names(vm.storage, media_id))
    # served, and its variant list now in the server's cache
    assert requests.get(f"{media_server}/serve/{media_id}?size=thumbnail", timeout=30).status_code == 200
    assert requests.get(f"{vm.api_url}/api/images/{media_id}?size=thumbnail", timeout=30).status_code == 200

    r = delete_upload(vm, token, image.pk)
    assert r.status_code == 204, r.text
    assert UserProfile.objects.get().profile_image_path == ""
    assert not temp.exists()
    assert requests.get(f"{vm.api_url}/api/uploads/{image.pk}", headers=auth(token), timeout=30).status_code == 404
    [deletion] = MediaDeletion.objects.all()
    assert (deletion.media_id, deletion.upload_id, deletion.done_at) == (media_id, image.pk, None)
    # deleting twice: the upload is gone, so 404
    assert delete_upload(vm, token, image.pk).status_code == 404

    vm.worker().work(burst=True)
    assert_erased(vm, vm.storage, media_id, media_server)
    assert list((vm.settings.storage_root / "library").rglob(f"{media_id}*")) == []
    assert list((vm.settings.storage_root / "bulk").rglob(f"{media_id}*")) == []


def test_a_deleted_upload_is_erased_from_the_bucket(vm, s3_bucket, settings):
    from media_vm.http import MediaApp
    from media_vm.storage import make_storage
    from media_vm.worker import Worker

    s3_settings = replace(vm.settings, storage_backend="s3", s3=s3_bucket.settings())
    storage = make_storage(s3_settings)

    def worker():
        w = Worker(s3_settings, repo=vm.repo, storage=storage, client=vm.client())
        vm.workers.append(w)
        return w

    token = vm.user("painter", "artist")
    keep = processed_upload(vm, token, "product_image", worker=worker(), seed=2)
    image = processed_upload(vm, token, worker=worker(), seed=3)
    media_id = image.media_id
    keys = s3_bucket.keys()
    assert any(media_id in k and k.startswith("bulk/") for k in keys)
    assert any(media_id in k and k.startswith("library/") for k in keys)

    with serving(MediaApp(s3_settings)) as server:
        settings.MEDIA_BACKEND_URL = server
        assert requests.get(f"{server}/serve/{media_id}?size=thumbnail", timeout=30).status_code == 200
        assert delete_upload(vm, token, image.pk).status_code == 204
        worker().work(burst=True)
        assert [k for k in s3_bucket.keys() if media_id in k] == []
        assert_erased(vm, storage, media_id, server)
        # the other upload of the same user is untouched
        assert any(keep.media_id in k for k in s3_bucket.keys())
        assert requests.get(f"{server}/serve/{keep.media_id}?size=thumbnail", timeout=30).status_code == 200


def test_bad_deletes_answer_404_and_change_nothing(vm):
    owner, other = vm.user("painter"), vm.user("sculptor")
    vm.upload(owner, "product_image")
    image = Upload.objects.get()
    assert delete_upload(vm, other, image.pk).status_code == 404
    assert delete_upload(vm, owner, 999_999).status_code == 404
    r = requests.delete(f"{vm.api_url}/api/uploads/{image.pk}", timeout=30)
    assert r.status_code == 401
    from tests.media_vm.worker.conftest import MEDIA_KEY

    r = requests.delete(f"{vm.api_url}/api/uploads/{image.pk}", headers={"Authorization": f"Bearer {MEDIA_KEY}"},
                        timeout=30)
    assert r.status_code == 403, r.text
    assert Upload.objects.filter(pk=image.pk).exists()
    assert MediaDeletion.objects.count() == 0


def test_a_vm_that_was_down_during_the_delete_catches_up(vm, media_server):
    token = vm.user("painter", "artist")
    image = processed_upload(vm, token, "logo_image")
    media_id = image.media_id
    # no worker runs while the user deletes; the deletion waits in the main API
    assert delete_upload(vm, token, image.pk).status_code == 204
    r = vm.client().deletions()
    assert [(d["media_id"], d["main_api_id"]) for d in r] == [(media_id, image.pk)]
    assert stored_names(vm.storage, media_id)
    # the worker comes back: its first pass erases it and acknowledges
    vm.worker().work(burst=True)
    assert_erased(vm, vm.storage, media_id, media_server)
    assert vm.client().deletions() == []


def test_deleting_an_upload_before_the_vm_processed_it(vm, media_server, monkeypatch):
    """Deleted while pending, before any worker ran: the VM never lists it, never processes it,
    and acknowledges the deletion once its grace for unseen uploads has passed."""
    from media_vm.worker import deletions

    token = vm.user("painter")
    vm.upload(token, "site_image")
    image = Upload.objects.get()
    assert delete_upload(vm, token, image.pk).status_code == 204
    from main_api.users.models import SiteMedia

    assert not SiteMedia.objects.exists()
    assert vm.worker().work(burst=True) == 0
    assert vm.rows() == []
    assert MediaDeletion.objects.get().done_at is None  # within the grace: kept listed
    monkeypatch.setattr(deletions, "UNSEEN_GRACE_SECONDS", 0.0)
    vm.worker().work(burst=True)
    assert MediaDeletion.objects.get().done_at is not None
    assert list(vm.settings.storage_root.rglob("*.*")) == []


def test_deleting_an_upload_the_vm_registered_but_has_not_finished(vm, media_server):
    """Registered on the VM and claimed by a worker (a live lease), then deleted: the claim is
    fenced off, the worker drops it, and what it wrote is erased once the hold expires."""
    from datetime import timedelta

    from sqlalchemy import update

    from media_vm.db import media_files, utcnow
    from media_vm.exceptions import LeaseLost

    token = vm.user("painter")
    vm.upload(token, "product_image")
    image = Upload.objects.get()
    worker = vm.worker()
    worker.poll()
    claim = vm.repo.claim_next("someone-else")
    assert claim is not None
    assert delete_upload(vm, token, image.pk).status_code == 204
    assert worker.erase_deleted()["waiting"] == 1
    [row] = vm.rows()
    with pytest.raises(LeaseLost):  # the worker that held it cannot write any more
        vm.repo.renew(claim)
    assert vm.repo.claim_next("another") is None
    # the hold expires (a lease later): the next pass erases it
    with vm.repo.engine.begin() as conn:
        conn.execute(update(media_files).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    assert worker.erase_deleted()["erased"] == 1
    assert vm.rows() == []
    assert MediaDeletion.objects.get().done_at is not None


def test_deleting_the_account_erases_everything_of_it_and_nothing_else(vm, media_server, caplog, monkeypatch):
    from django.contrib.auth import get_user_model

    from main_api.users.models import UserProfile
    from media_vm.worker import deletions

    owner, other = vm.user("painter", "artist"), vm.user("sculptor", "artist")
    mine = [processed_upload(vm, owner, "profile_image", seed=4), processed_upload(vm, owner, "logo_image", seed=5)]
    theirs = processed_upload(vm, other, "profile_image", seed=7)
    vm.upload(owner, "product_image", seed=6)  # still pending
    pending = Upload.objects.filter(status=Upload.Status.PENDING).get()
    temp = vm.temp_dir / pending.image_path.removeprefix("/temp_images/")
    assert temp.is_file()

    with caplog.at_level("INFO"):
        r = requests.delete(f"{vm.api_url}/users/me", headers=auth(owner), timeout=30)
    assert r.status_code == 204, r.text
    erasure = [rec.getMessage() for rec in caplog.records if "erased on request" in rec.getMessage()]
    assert erasure and "3 upload(s)" in erasure[0] and "painter" not in erasure[0]
    assert requests.get(f"{vm.api_url}/users/me", headers=auth(owner), timeout=30).status_code == 401
    assert not get_user_model().objects.filter(username="painter").exists()
    assert not temp.exists()
    assert Upload.objects.count() == 1 and MediaDeletion.objects.count() == 3

    monkeypatch.setattr(deletions, "UNSEEN_GRACE_SECONDS", 0.0)  # the pending one was never seen
    vm.worker().work(burst=True)
    for image in mine:
        assert_erased(vm, vm.storage, image.media_id, media_server)
    assert [r["main_api_id"] for r in vm.rows()] == [theirs.pk]
    assert stored_names(vm.storage, theirs.media_id)
    assert requests.get(f"{media_server}/serve/{theirs.media_id}?size=thumbnail", timeout=30).status_code == 200
    assert UserProfile.objects.get().profile_image_path.endswith(theirs.media_id + "?size=detail")
    assert requests.get(f"{vm.api_url}/users/me", headers=auth(other), timeout=30).status_code == 200
