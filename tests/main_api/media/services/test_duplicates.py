"""Duplicate uploads (issue 14): the same bytes uploaded again by the same user, while the
earlier upload is pending or finished, make no second processing job. The SHA-256 is
computed by the upload handler while the body streams in; the new upload's row is a
duplicate (``duplicate_of``) that shows the earlier upload's state and image, and its field
refers to that image."""

from __future__ import annotations

import hashlib

import pytest
import requests
from rest_framework.authtoken.models import Token

from main_api.media.models import MediaDeletion, Upload
from main_api.users.models import UserProfile
from tests.helpers.images import image_bytes
from tests.main_api.support import MEDIA_ID, client_for, complete_payload, media_client, upload

SMART = "https://cdn.example.test/api/images"


def listed_ids() -> set[int]:
    """The ids the media VM is offered (``GET /api/media/pending/all``)."""
    response = media_client().get("/api/media/pending/all")
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["images"]}


def newest(user) -> Upload:
    return Upload.objects.filter(user=user).latest("pk")


def test_the_same_bytes_again_make_no_second_job(artist, temp_dir):
    data = image_bytes()
    client = client_for(artist)
    assert upload(client, profile_image=("me.jpg", data)).status_code == 200
    first = newest(artist)
    assert first.sha256 == hashlib.sha256(data).hexdigest()

    assert upload(client, header_image=("again.jpg", data)).status_code == 200
    second = newest(artist)
    assert second.pk != first.pk
    assert second.duplicate_of_id == first.pk
    assert second.image_path is None and second.status == Upload.Status.COMPLETE
    assert listed_ids() == {first.pk}, "only one processing job"
    assert len(list(temp_dir.rglob("*.jpg"))) == 1, "no second temp original"
    profile = UserProfile.objects.get(user=artist)
    assert profile.header_image_path == first.image_path == profile.profile_image_path

    body = client.get(f"/api/uploads/{second.pk}").json()
    assert (body["id"], body["duplicate_of"], body["field"], body["original_name"]) == (
        second.pk, first.pk, "header_image", "again.jpg")
    assert (body["status"], body["stage"], body["retryable"]) == ("pending", "queued", False)
    assert client.get(f"/api/uploads/{first.pk}").json()["duplicate_of"] is None

    # the earlier upload is processed: the duplicate shows its image, and both fields get its URL
    assert media_client().post(f"/api/media/complete/{first.pk}", complete_payload(), format="json").status_code == 200
    body = client.get(f"/api/uploads/{second.pk}").json()
    assert (body["status"], body["media_id"]) == ("complete", MEDIA_ID)
    assert body["smart_url"] == f"{SMART}/{MEDIA_ID}?size=detail"
    profile.refresh_from_db()
    assert profile.header_image_path == profile.profile_image_path == f"{SMART}/{MEDIA_ID}?size=detail"
    me = {row["id"]: row for row in client.get("/users/me").json()["pending_images"]}
    assert me[second.pk]["duplicate_of"] == first.pk and me[second.pk]["media_id"] == MEDIA_ID

    # a third upload of the same bytes after completion refers to the smart URL at once
    UserProfile.objects.filter(user=artist).update(header_image_path="")
    assert upload(client, header_image=("third.jpg", data)).status_code == 200
    third = newest(artist)
    assert third.duplicate_of_id == first.pk
    assert UserProfile.objects.get(user=artist).header_image_path == f"{SMART}/{MEDIA_ID}?size=detail"
    assert listed_ids() == set()


def test_two_fields_of_one_request_with_the_same_bytes_are_one_job(artist, temp_dir):
    data = image_bytes()
    response = upload(client_for(artist), profile_image=("a.jpg", data), header_image=("b.jpg", data))
    assert response.status_code == 200, response.content
    rows = list(Upload.objects.filter(user=artist).order_by("pk"))
    assert len(rows) == 2 and rows[1].duplicate_of_id == rows[0].pk
    assert listed_ids() == {rows[0].pk}


@pytest.mark.parametrize("case", ["other user", "other data type", "other bytes", "earlier failed"])
def test_what_is_not_a_duplicate(case, artist, make_user, temp_dir):
    data = image_bytes(fmt="PNG")
    assert upload(client_for(artist), profile_image=("a.png", data, "image/png")).status_code == 200
    first = newest(artist)
    uploader, field = artist, "header_image"
    if case == "other user":
        uploader = make_user("artist")
    elif case == "other data type":
        field = "logo_image"
    elif case == "other bytes":
        data = image_bytes(fmt="PNG")
    else:
        assert media_client().delete(f"/api/media/cleanup/{first.pk}").status_code == 200
    assert upload(client_for(uploader), **{field: ("b.png", data, "image/png")}).status_code == 200
    second = newest(uploader)
    assert second.duplicate_of_id is None and second.status == Upload.Status.PENDING
    assert second.pk in listed_ids()


def test_when_the_earlier_upload_fails_the_duplicates_field_is_given_back_too(artist, temp_dir):
    client = client_for(artist)
    data = image_bytes()
    assert upload(client, header_image=("old.jpg", image_bytes())).status_code == 200
    old_header = newest(artist)
    assert upload(client, profile_image=("a.jpg", data)).status_code == 200
    first = newest(artist)
    assert upload(client, header_image=("b.jpg", data)).status_code == 200
    second = newest(artist)
    assert UserProfile.objects.get(user=artist).header_image_path == first.image_path

    assert media_client().delete(f"/api/media/cleanup/{first.pk}").status_code == 200
    profile = UserProfile.objects.get(user=artist)
    assert profile.profile_image_path == ""
    assert profile.header_image_path == old_header.image_path, "the duplicate's field got back what it held"
    body = client.get(f"/api/uploads/{second.pk}").json()
    assert (body["status"], body["stage"], body["retryable"]) == ("failed", "failed", False)
    r = client.post(f"/api/uploads/{second.pk}/retry")
    assert r.status_code == 409 and r.json()["extra"]["duplicate_of"] == first.pk

    # retrying the earlier upload points both fields at it again
    assert client.post(f"/api/uploads/{first.pk}/retry").status_code == 200
    profile.refresh_from_db()
    assert profile.profile_image_path == profile.header_image_path == first.image_path


def test_deleting_a_duplicate_keeps_the_image_deleting_the_earlier_takes_both(
        artist, temp_dir, django_capture_on_commit_callbacks):
    client = client_for(artist)
    data = image_bytes()
    upload(client, profile_image=("a.jpg", data))
    first = newest(artist)
    upload(client, header_image=("b.jpg", data))
    second = newest(artist)
    media_client().post(f"/api/media/complete/{first.pk}", complete_payload(), format="json")

    assert client.delete(f"/api/uploads/{second.pk}").status_code == 204
    profile = UserProfile.objects.get(user=artist)
    assert profile.header_image_path == "" and profile.profile_image_path.endswith(f"/{MEDIA_ID}?size=detail")
    assert MediaDeletion.objects.count() == 0, "the image is the earlier upload's and stays"
    assert client.get(f"/api/uploads/{first.pk}").status_code == 200

    upload(client, header_image=("c.jpg", data))
    third = newest(artist)
    assert third.duplicate_of_id == first.pk
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/uploads/{first.pk}").status_code == 204
    assert not Upload.objects.filter(pk__in=[first.pk, third.pk]).exists()
    assert MediaDeletion.objects.get().media_id == MEDIA_ID
    profile.refresh_from_db()
    assert profile.header_image_path == profile.profile_image_path == ""
    assert list(temp_dir.rglob("*.jpg")) == []


def test_erasing_an_account_with_duplicates(artist, temp_dir):
    client = client_for(artist)
    data = image_bytes()
    upload(client, profile_image=("a.jpg", data))
    upload(client, header_image=("b.jpg", data))
    assert client.delete("/users/me").status_code == 204
    assert not Upload.objects.filter(user_id=artist.pk).exists()
    assert MediaDeletion.objects.count() == 1


def test_the_hash_is_computed_while_the_body_streams_in_over_real_http(live_server, artist, temp_dir):
    """Through a real socket and Django's multipart parser: the handler's digest is stored."""
    token = Token.objects.create(user=artist).key
    data = image_bytes(size=(640, 480))
    for name in ("a.jpg", "b.jpg"):
        r = requests.patch(f"{live_server.url}/users/me", files={"profile_image": (name, data, "image/jpeg")},
                           headers={"Authorization": f"Token {token}"}, timeout=30)
        assert r.status_code == 200, r.text
    first, second = Upload.objects.filter(user=artist).order_by("pk")
    assert first.sha256 == second.sha256 == hashlib.sha256(data).hexdigest()
    assert second.duplicate_of_id == first.pk


def test_a_duplicate_is_listed_by_the_status_it_shows_and_is_never_reprocessed(artist, temp_dir):
    from main_api.common.exceptions import ConflictError
    from main_api.media.services.reprocessing import upload_reprocess

    client = client_for(artist)
    data = image_bytes()
    upload(client, profile_image=("a.jpg", data))
    first = newest(artist)
    upload(client, header_image=("b.jpg", data))
    second = newest(artist)
    listed = {row["id"] for row in client.get("/api/uploads?status=pending").json()["results"]}
    assert listed == {first.pk, second.pk}, "the duplicate shows (and filters as) the earlier one's status"
    assert client.get("/api/uploads?status=complete").json()["results"] == []
    media_client().post(f"/api/media/complete/{first.pk}", complete_payload(), format="json")
    with pytest.raises(ConflictError):
        upload_reprocess(image_id=second.pk)
    again = upload_reprocess(image_id=first.pk)
    assert again.sha256 == first.sha256
    upload(client, header_image=("c.jpg", data))
    assert newest(artist).duplicate_of_id == again.pk, "the newest run of those bytes"
