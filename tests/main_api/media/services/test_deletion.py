"""Deleting uploads on the main API's side (issue 14): ``DELETE /api/uploads/{id}`` clears the
references and records a deletion request in one transaction; the media VM lists the requests
(``GET /api/media/deletions``) and acknowledges each (``POST .../done``, idempotent). The VM's
side, end to end, is ``tests/media_vm/worker/test_deletion.py``."""

from __future__ import annotations

import pytest

from main_api.media.domain_events import UPLOAD_DELETED, UploadDeleted
from main_api.media.models import MediaDeletion, Upload
from main_api.media.services.deletion import upload_delete
from main_api.users.models import SiteMedia, UserProfile
from tests.main_api.support import MEDIA_ID, client_for, complete_payload, make_pending, media_client


def test_deleting_a_complete_upload_clears_its_field_and_records_the_deletion(
        artist, temp_dir, django_capture_on_commit_callbacks):
    image = make_pending(artist)
    assert media_client().post(f"/api/media/complete/{image.pk}", complete_payload(), format="json").status_code == 200
    assert UserProfile.objects.get(user=artist).profile_image_path.endswith(f"/{MEDIA_ID}?size=detail")
    temp = temp_dir / image.image_path.removeprefix("/temp_images/")
    assert temp.is_file()

    with django_capture_on_commit_callbacks(execute=True):  # the temp original goes once committed
        r = client_for(artist).delete(f"/api/uploads/{image.pk}")
    assert r.status_code == 204, r.content
    assert UserProfile.objects.get(user=artist).profile_image_path == ""
    assert not Upload.objects.filter(pk=image.pk).exists()
    assert not temp.exists()
    [deletion] = MediaDeletion.objects.all()
    assert (deletion.media_id, deletion.upload_id, deletion.done_at) == (MEDIA_ID, image.pk, None)
    assert client_for(artist).delete(f"/api/uploads/{image.pk}").status_code == 404  # twice: gone
    assert MediaDeletion.objects.count() == 1


def test_deleting_a_pending_site_image_removes_its_row_and_asks_the_vm_by_upload_id(artist, temp_dir):
    image = make_pending(artist, "site_image")
    assert SiteMedia.objects.filter(user=artist).count() == 1
    assert client_for(artist).delete(f"/api/uploads/{image.pk}").status_code == 204
    assert not SiteMedia.objects.exists()
    body = media_client().get("/api/media/deletions").json()
    [item] = body["deletions"]
    assert set(item) == {"id", "media_id", "main_api_id", "requested_at"}
    assert (item["media_id"], item["main_api_id"]) == (None, image.pk)


def test_someone_elses_or_an_unknown_upload_is_404_and_the_media_key_may_not_delete(make_user, temp_dir):
    owner, other = make_user("artist"), make_user("artist")
    image = make_pending(owner)
    assert client_for(other).delete(f"/api/uploads/{image.pk}").status_code == 404
    assert client_for(owner).delete("/api/uploads/999999").status_code == 404
    assert media_client().delete(f"/api/uploads/{image.pk}").status_code == 403
    assert Upload.objects.filter(pk=image.pk).exists() and not MediaDeletion.objects.exists()
    assert UserProfile.objects.get(user=owner).profile_image_path == image.image_path


def broken_deletion_handler(event: UploadDeleted) -> None:
    raise RuntimeError("boom")


def test_a_failing_deletion_hook_rolls_everything_back(artist, temp_dir):
    image = make_pending(artist)
    temp = temp_dir / image.image_path.removeprefix("/temp_images/")

    UPLOAD_DELETED.connect(broken_deletion_handler)
    try:
        with pytest.raises(RuntimeError):
            upload_delete(image_id=image.pk, user_id=artist.pk)
    finally:
        UPLOAD_DELETED.disconnect(broken_deletion_handler)
    assert Upload.objects.filter(pk=image.pk).exists() and temp.is_file()
    assert not MediaDeletion.objects.exists()
    assert UserProfile.objects.get(user=artist).profile_image_path == image.image_path


def test_the_vm_lists_open_deletions_and_acknowledges_each_idempotently(artist, temp_dir):
    first, second = make_pending(artist), make_pending(artist, "header_image")
    for image in (first, second):
        assert client_for(artist).delete(f"/api/uploads/{image.pk}").status_code == 204
    listed = media_client().get("/api/media/deletions").json()["deletions"]
    assert [d["main_api_id"] for d in listed] == [first.pk, second.pk]

    done = media_client().post(f"/api/media/deletions/{listed[0]['id']}/done")
    assert done.status_code == 200 and done.json()["success"] is True
    again = media_client().post(f"/api/media/deletions/{listed[0]['id']}/done")
    assert again.status_code == 200 and again.json()["done_at"] == done.json()["done_at"]
    assert [d["main_api_id"] for d in media_client().get("/api/media/deletions").json()["deletions"]] == [second.pk]
    assert media_client().post("/api/media/deletions/999999/done").status_code == 404
    assert media_client().get("/api/media/deletions?limit=0").status_code == 400


def test_the_deletion_endpoints_need_the_media_key(artist):
    assert client_for(artist).get("/api/media/deletions").status_code == 401
    assert media_client("wrong-key").post("/api/media/deletions/1/done").status_code == 401


def test_delete_users_me_erases_the_account_and_leaves_other_users_alone(
        make_user, temp_dir, django_capture_on_commit_callbacks):
    owner, other = make_user("artist"), make_user("promoter")
    mine = [make_pending(owner), make_pending(owner, "logo_image"), make_pending(owner, "site_image")]
    theirs = make_pending(other)
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(owner).delete("/users/me").status_code == 204
    assert not type(owner).objects.filter(pk=owner.pk).exists()
    assert list(Upload.objects.values_list("pk", flat=True)) == [theirs.pk]
    assert sorted(MediaDeletion.objects.values_list("upload_id", flat=True)) == [i.pk for i in mine]
    assert [p.name for p in temp_dir.rglob("*.*")] == [theirs.image_path.rsplit("/", 1)[-1]]
    assert client_for(other).get("/users/me").status_code == 200
