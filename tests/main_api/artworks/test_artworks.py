"""Artworks through the API, in-process: direct upload (local flavour), create, the derived
status, slugs, validation, the limit, public listings, hiding, failure and deletion.
Processes, the S3 flavour, the media VM's images and concurrency: tests/system/e2e/test_artworks.py."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from main_api.artworks.models import Artwork
from main_api.media.models import DirectUpload, MediaDeletion, Upload
from main_api.media.services.reprocessing import upload_reprocess
from main_api.users.models import UserProfile
from tests.helpers.images import image_bytes
from tests.main_api import support

pytestmark = pytest.mark.django_db


def direct_upload(client: APIClient, data: bytes, *, content_type: str = "image/jpeg", name: str = "work.jpg") -> str:
    """Ask for an upload URL, PUT ``data`` to it; the key."""
    answer = client.post("/api/artworks/upload-url",
                         {"filename": name, "content_type": content_type, "size": len(data)}, format="json")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["method"] == "PUT", body
    target = urlsplit(body["upload_url"])
    put = APIClient().generic("PUT", f"{target.path}?{target.query}" if target.query else target.path, data,
                              content_type=content_type)
    assert put.status_code in (200, 201, 204), put.content
    return body["key"]


def create(client: APIClient, key: str, **fields):
    body = {"title": "Blue Hour", "category": "painting", "key": key, **fields}
    return client.post("/api/artworks", body, format="json")


def new_artwork(client: APIClient, *, seed: int = 1, **fields) -> dict:
    answer = create(client, direct_upload(client, image_bytes("JPEG", (80, 60), serial=seed)), **fields)
    assert answer.status_code == 201, answer.content
    return answer.json()


def complete(artwork: dict, media_id: str = support.MEDIA_ID) -> None:
    payload = support.complete_payload(media_id, sizes_available=["icon", "thumbnail", "display"])
    answer = support.media_client().post(f"/api/media/complete/{artwork['upload']['id']}", payload, format="json")
    assert answer.status_code == 200, answer.content


def test_create_gives_a_processing_artwork_with_its_upload_and_no_urls_yet(user_client, artist):
    answer = create(user_client, direct_upload(user_client, image_bytes("JPEG", (80, 60))),
                    title="  Blue Hour ", description="Dusk over the harbour", materials="oil on linen",
                    dimensions="60 x 80 cm", created_date="2024-05-01", tags=[" Sea ", "sea", "DUSK"])
    assert answer.status_code == 201, answer.content
    artwork = answer.json()
    assert artwork["slug"] == "blue-hour"
    assert (artwork["title"], artwork["materials"]) == ("Blue Hour", "oil on linen")
    assert artwork["dimensions"] == "60 x 80 cm"
    assert artwork["created_date"] == "2024-05-01" and artwork["category"] == "painting"
    assert artwork["tags"] == ["sea", "dusk"]
    assert artwork["status"] == "processing"
    assert (artwork["icon_url"], artwork["thumbnail_url"], artwork["display_url"]) == (None, None, None)
    upload = Upload.objects.get(pk=artwork["upload"]["id"])
    assert (upload.data_type, upload.field, upload.status) == ("artwork", "artwork", "pending")
    assert upload.user_id == artist.pk
    assert artwork["upload"]["data_type"] == "artwork"

    listed = support.media_client().get("/api/media/pending/all").json()["images"]
    row = next(r for r in listed if r["id"] == upload.pk)
    assert row["watermark"] == artist.username
    assert row["image_path"].startswith("/temp_images/artworks/")


def test_other_uploads_carry_no_watermark(user_client, artist):
    image = support.make_pending(artist)
    row = next(r for r in support.media_client().get("/api/media/pending/all").json()["images"] if r["id"] == image.pk)
    assert row["watermark"] is None


def test_processed_artwork_is_active_with_smart_urls_and_public(user_client, artist):
    artwork = new_artwork(user_client, description="d")
    complete(artwork)
    mine = user_client.get(f"/api/artworks/{artwork['id']}").json()
    assert mine["status"] == "active"
    base = f"https://cdn.example.test/api/images/{support.MEDIA_ID}"
    assert (mine["icon_url"], mine["thumbnail_url"], mine["display_url"]) == (
        f"{base}?size=icon", f"{base}?size=thumbnail", f"{base}?size=display")
    assert mine["upload"]["smart_url"] == f"{base}?size=display"

    anonymous = APIClient()
    listing = anonymous.get(f"/api/users/{artist.username}/artworks")
    assert listing.status_code == 200
    [public] = listing.json()["results"]
    assert public["slug"] == "blue-hour" and public["artist"] == artist.username
    assert public["display_url"] == f"{base}?size=display"
    assert "upload" not in public and "id" not in public
    detail = anonymous.get(f"/api/users/{artist.username}/artworks/blue-hour")
    assert detail.status_code == 200 and detail.json()["title"] == "Blue Hour"
    for text in (listing.content, detail.content):
        assert b"temp_images" not in text and b"/serve/" not in text


def test_only_active_artworks_are_public(user_client, artist):
    processing = new_artwork(user_client, title="Still Processing", seed=1)
    hidden = new_artwork(user_client, title="Hidden One", seed=2)
    complete(hidden)
    failed = new_artwork(user_client, title="Broken", seed=3)
    active = new_artwork(user_client, title="Shown", seed=4)
    complete(active, support.OTHER_MEDIA_ID)

    hide = user_client.patch(f"/api/artworks/{hidden['id']}", {"hidden": True}, format="json")
    assert hide.json()["status"] == "hidden"
    cleanup = support.media_client().delete(f"/api/media/cleanup/{failed['upload']['id']}",
                                            {"reason": "decode failed"}, format="json")
    assert cleanup.status_code == 200, cleanup.content
    assert user_client.get(f"/api/artworks/{failed['id']}").json()["status"] == "failed"
    assert user_client.get(f"/api/artworks/{processing['id']}").json()["status"] == "processing"

    public = APIClient().get(f"/api/users/{artist.username}/artworks").json()["results"]
    assert [a["slug"] for a in public] == ["shown"]
    for slug in ("still-processing", "hidden-one", "broken"):
        assert APIClient().get(f"/api/users/{artist.username}/artworks/{slug}").status_code == 404
    mine = user_client.get("/api/artworks").json()["results"]
    assert {a["slug"]: a["status"] for a in mine} == {
        "still-processing": "processing", "hidden-one": "hidden", "broken": "failed", "shown": "active"}
    assert APIClient().get("/api/users/nobody-here/artworks").status_code == 404


def test_slugs_are_unique_per_artist_and_stable(user_client, make_user):
    first = new_artwork(user_client, title="Blue Hour", seed=1)
    second = new_artwork(user_client, title="Blue Hour", seed=2)
    third = new_artwork(user_client, title="Blue hour!", seed=3)
    assert [first["slug"], second["slug"], third["slug"]] == ["blue-hour", "blue-hour-2", "blue-hour-3"]
    other = support.client_for(make_user("artist"))
    assert new_artwork(other, title="Blue Hour", seed=4)["slug"] == "blue-hour"

    renamed = user_client.patch(f"/api/artworks/{second['id']}", {"title": "Red Dawn"}, format="json").json()
    assert (renamed["title"], renamed["slug"]) == ("Red Dawn", "blue-hour-2")
    reslugged = user_client.patch(f"/api/artworks/{second['id']}", {"regenerate_slug": True}, format="json").json()
    assert reslugged["slug"] == "red-dawn"
    again = user_client.patch(f"/api/artworks/{first['id']}", {"title": "Red Dawn", "regenerate_slug": True},
                              format="json").json()
    assert again["slug"] == "red-dawn-2"
    assert new_artwork(user_client, title="???", seed=5)["slug"] == "artwork"


@pytest.mark.parametrize("fields, named", [
    ({"category": "pottery"}, "category"),
    ({"tags": [f"t{n}" for n in range(21)]}, "tags"),
    ({"tags": ["x" * 41]}, "tags"),
    ({"title": ""}, "title"),
    ({"title": "t" * 201}, "title"),
    ({"materials": "m" * 501}, "materials"),
    ({"created_date": "last spring"}, "created_date"),
])
def test_bad_fields_are_refused_and_nothing_is_created(user_client, fields, named):
    key = direct_upload(user_client, image_bytes("JPEG", (80, 60)))
    answer = create(user_client, key, **fields)
    assert answer.status_code == 400, answer.content
    assert named in json.dumps(answer.json())
    assert Artwork.objects.count() == 0 and Upload.objects.count() == 0
    assert create(user_client, key).status_code == 201  # the key was not used up


def test_tags_are_trimmed_lowered_and_deduplicated_up_to_the_limit(user_client):
    tags = [f"  Tag {n}  " for n in range(20)] + ["tag 0", "TAG 1", "   "]
    artwork = new_artwork(user_client, tags=tags)
    assert artwork["tags"] == [f"tag {n}" for n in range(20)]


def test_keys_that_are_not_usable_are_refused_with_nothing_created(user_client, make_user, temp_dir):
    other = support.client_for(make_user("artist"))
    others_key = direct_upload(other, image_bytes("JPEG", (80, 60)))
    not_an_image = direct_upload(user_client, b"%PDF-1.4 not an image at all" * 10)
    for key, why in ((others_key, "another user's"), ("artworks/nope", "unknown"), (not_an_image, "not an image")):
        answer = create(user_client, key)
        assert answer.status_code == 400, (why, answer.content)
        assert answer.json()["message"], why
        assert answer.json()["extra"]["field"] == "key", why  # the request's own field, for the frontend
    assert Artwork.objects.count() == 0 and Upload.objects.count() == 0
    assert not list(temp_dir.rglob("*-artwork-*")), "a refused artwork left a temp original"

    key = direct_upload(user_client, image_bytes("JPEG", (80, 60)))
    assert create(user_client, key).status_code == 201
    assert create(user_client, key).status_code == 400  # single use
    assert Artwork.objects.count() == 1


def test_a_key_used_after_its_expiry_is_refused_although_its_bytes_arrived_in_time(user_client, temp_dir):
    """Issue 25: the bytes were PUT within DIRECT_UPLOAD_SECONDS, the artwork is created after it:
    400 at once, nothing created (before: taken until the sweep came, an hour later)."""
    key = direct_upload(user_client, image_bytes("JPEG", (80, 60)))
    DirectUpload.objects.filter(key=key).update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = create(user_client, key)
    assert answer.status_code == 400, answer.content
    assert answer.json() == {"message": "this upload key has expired", "extra": {"field": "key"}}
    assert Artwork.objects.count() == 0 and Upload.objects.count() == 0
    assert DirectUpload.objects.get(key=key).consumed_at is None


def test_upload_url_refuses_bad_requests(user_client, settings):
    for body, status in (
        ({"filename": "a.pdf", "content_type": "application/pdf", "size": 10}, 400),
        ({"filename": "a.jpg", "content_type": "image/jpeg", "size": 0}, 400),
        ({"filename": "a.jpg", "content_type": "image/jpeg", "size": settings.MAX_UPLOAD_BYTES + 1}, 413),
    ):
        answer = user_client.post("/api/artworks/upload-url", body, format="json")
        assert answer.status_code == status, (body, answer.content)
        assert answer.json()["message"]
    assert APIClient().post("/api/artworks/upload-url", {"filename": "a.jpg", "content_type": "image/jpeg",
                                                          "size": 10}, format="json").status_code == 401


def test_the_limit_answers_429_and_creates_nothing(user_client, artist, settings):
    settings.ARTWORK_LIMIT = 2
    new_artwork(user_client, seed=1)
    key = direct_upload(user_client, image_bytes("JPEG", (80, 60), serial=2))
    new_artwork(user_client, seed=3)
    answer = create(user_client, key)
    assert answer.status_code == 429, answer.content
    assert answer.json()["extra"]["limit"] == 2
    assert Artwork.objects.count() == 2 and Upload.objects.count() == 2
    refused = user_client.post("/api/artworks/upload-url", {"filename": "a.jpg", "content_type": "image/jpeg",
                                                            "size": 10}, format="json")
    assert refused.status_code == 429

    UserProfile.objects.filter(user=artist).update(artwork_limit=3)  # ops raised it in the admin
    assert create(user_client, key).status_code == 201


def test_deleting_an_artwork_deletes_its_image_everywhere(user_client, artist, temp_dir,
                                                          django_capture_on_commit_callbacks):
    artwork = new_artwork(user_client)
    complete(artwork)
    upload = Upload.objects.get(pk=artwork["upload"]["id"])
    with django_capture_on_commit_callbacks(execute=True):
        assert user_client.delete(f"/api/artworks/{artwork['id']}").status_code == 204
    assert not Artwork.objects.exists() and not Upload.objects.filter(pk=upload.pk).exists()
    deletion = MediaDeletion.objects.get(upload_id=upload.pk)
    assert deletion.media_id == support.MEDIA_ID
    assert not list(temp_dir.rglob("*-artwork-*"))
    assert user_client.delete(f"/api/artworks/{artwork['id']}").status_code == 404
    assert APIClient().get(f"/api/users/{artist.username}/artworks/blue-hour").status_code == 404


def test_deleting_the_upload_deletes_the_artwork(user_client):
    artwork = new_artwork(user_client)
    assert user_client.delete(f"/api/uploads/{artwork['upload']['id']}").status_code == 204
    assert not Artwork.objects.exists()


def test_owners_endpoints_are_the_owners(user_client, make_user):
    artwork = new_artwork(user_client)
    other = support.client_for(make_user("artist"))
    assert other.get(f"/api/artworks/{artwork['id']}").status_code == 404
    assert other.patch(f"/api/artworks/{artwork['id']}", {"hidden": True}, format="json").status_code == 404
    assert other.delete(f"/api/artworks/{artwork['id']}").status_code == 404
    assert APIClient().get(f"/api/artworks/{artwork['id']}").status_code == 401
    assert Artwork.objects.get().hidden is False


def test_ops_see_artworks_and_set_a_users_limit_in_the_admin(user_client, artist, settings,
                                                             django_capture_on_commit_callbacks):
    from django.test import Client

    from main_api.users.models import User

    settings.ARTWORK_LIMIT = 1
    artwork = new_artwork(user_client, title="Admin Sees Me")
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.test", "pw-for-tests-only"))
    listing = admin.get("/admin/artworks/artwork/")
    assert listing.status_code == 200
    assert b"Admin Sees Me" in listing.content and b"processing" in listing.content

    # the limit is a field of the profile, inline on the user's page
    page = admin.get(f"/admin/users/user/{artist.pk}/change/")
    assert page.status_code == 200 and b"artwork_limit" in page.content
    UserProfile.objects.filter(user=artist).update(artwork_limit=5)
    assert new_artwork(user_client, title="Second", seed=9)["slug"] == "second"

    # deleting in the admin deletes the image everywhere, as the owner's DELETE does
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin.post(f"/admin/artworks/artwork/{artwork['id']}/delete/", {"post": "yes"})
    assert answer.status_code == 302, answer.content[:500]
    assert not Artwork.objects.filter(pk=artwork["id"]).exists()
    assert not Upload.objects.filter(pk=artwork["upload"]["id"]).exists()
    assert MediaDeletion.objects.filter(upload_id=artwork["upload"]["id"]).exists()


def test_an_artwork_may_name_the_tool_that_made_it(user_client):
    artwork = new_artwork(user_client, source_tool="dall-e")
    assert Upload.objects.get(pk=artwork["upload"]["id"]).source_tool == "dall-e"
    refused = create(user_client, direct_upload(user_client, image_bytes("JPEG", (80, 60))), source_tool="paint.exe")
    assert refused.status_code == 400 and "source_tool" in refused.json()["extra"]["fields"]


@pytest.mark.parametrize("declared, stored", [
    ("image/heic", "image/heif"), ("Image/JPEG", "image/jpeg"), ("image/jpg", "image/jpeg"),
    ("image/png; charset=binary", "image/png"),
])
def test_upload_url_takes_what_browsers_call_our_types(user_client, declared, stored):
    from main_api.media.models import DirectUpload

    answer = user_client.post("/api/artworks/upload-url", {"filename": "IMG_0001.HEIC", "content_type": declared,
                                                           "size": 1000}, format="json")
    assert answer.status_code == 200, answer.content
    assert DirectUpload.objects.get(key=answer.json()["key"]).content_type == stored


@pytest.mark.parametrize("name", ["al%20ice", "%F0%9F%98%80", "%27%3B--", "x" * 151])
def test_a_name_that_is_no_artists_is_a_json_404(name):
    for path in (f"/api/users/{name}/artworks", f"/api/users/{name}/artworks/some-slug"):
        answer = APIClient().get(path)
        assert answer.status_code == 404 and answer["Content-Type"] == "application/json", path
        assert answer.json()["message"]


def test_a_reprocessed_artwork_follows_its_new_run_and_its_deletion_takes_every_run(
        user_client, artist, temp_dir, django_capture_on_commit_callbacks):
    artwork = new_artwork(user_client)
    complete(artwork)
    first = artwork["upload"]["id"]
    again = upload_reprocess(image_id=first)  # an admin re-processes it (new watermark, new sizes)

    shown = user_client.get(f"/api/artworks/{artwork['id']}").json()
    assert (shown["upload"]["id"], shown["status"]) == (first, "active")  # the old run serves meanwhile
    assert support.MEDIA_ID in shown["display_url"]

    complete({"upload": {"id": again.pk}}, support.OTHER_MEDIA_ID)

    shown = user_client.get(f"/api/artworks/{artwork['id']}").json()
    assert (shown["upload"]["id"], shown["status"]) == (again.pk, "active")
    public = APIClient().get(f"/api/users/{artist.username}/artworks/{artwork['slug']}").json()
    for body in (shown, public):
        assert support.OTHER_MEDIA_ID in body["display_url"] and support.MEDIA_ID not in body["display_url"]

    with django_capture_on_commit_callbacks(execute=True):
        assert user_client.delete(f"/api/artworks/{artwork['id']}").status_code == 204
    assert not Upload.objects.filter(pk__in=[first, again.pk]).exists()
    assert set(MediaDeletion.objects.values_list("media_id", flat=True)) == {support.MEDIA_ID, support.OTHER_MEDIA_ID}
    assert not list(temp_dir.rglob("*-artwork-*"))


def test_deleting_an_artwork_takes_a_pending_reprocessing_along(user_client, artist, temp_dir):
    artwork = new_artwork(user_client)
    complete(artwork)
    again = upload_reprocess(image_id=artwork["upload"]["id"])

    assert user_client.delete(f"/api/artworks/{artwork['id']}").status_code == 204

    assert not Upload.objects.filter(pk=again.pk).exists()  # it will never be made, watermarked, unowned
    assert again.pk not in [i["id"] for i in support.media_client().get("/api/media/pending/all").json()["images"]]
    assert MediaDeletion.objects.filter(upload_id=again.pk).exists()


def test_deleting_an_artworks_upload_takes_its_other_runs_along(user_client, artist, temp_dir):
    """Through ``DELETE /api/uploads/{id}`` too (the newcomer's try found a processed
    re-processing left behind, public and watermarked, with no artwork): the artwork is on its
    re-processing as soon as that completes, and deleting that upload takes the earlier run."""
    artwork = new_artwork(user_client)
    complete(artwork)
    again = upload_reprocess(image_id=artwork["upload"]["id"])
    complete({"upload": {"id": again.pk}}, support.OTHER_MEDIA_ID)  # the artwork follows at once
    assert user_client.get(f"/api/artworks/{artwork['id']}").json()["upload"]["id"] == again.pk

    assert user_client.delete(f"/api/uploads/{again.pk}").status_code == 204

    assert not Artwork.objects.exists()
    assert not Upload.objects.exists()
    assert set(MediaDeletion.objects.values_list("media_id", flat=True)) == {support.MEDIA_ID, support.OTHER_MEDIA_ID}
    assert user_client.get("/api/uploads").json()["results"] == []


def test_an_earlier_run_deleted_alone_leaves_the_artwork(user_client, artist, temp_dir):
    artwork = new_artwork(user_client)
    complete(artwork)
    again = upload_reprocess(image_id=artwork["upload"]["id"])
    complete({"upload": {"id": again.pk}}, support.OTHER_MEDIA_ID)

    assert user_client.delete(f"/api/uploads/{artwork['upload']['id']}").status_code == 204

    shown = user_client.get(f"/api/artworks/{artwork['id']}").json()
    assert (shown["upload"]["id"], shown["status"]) == (again.pk, "active")


def test_erasing_an_account_with_a_reprocessed_artwork(user_client, artist, temp_dir):
    from main_api.users.services import user_erase

    artwork = new_artwork(user_client)
    complete(artwork)
    again = upload_reprocess(image_id=artwork["upload"]["id"])
    complete({"upload": {"id": again.pk}}, support.OTHER_MEDIA_ID)
    user_erase(user=artist)
    assert not Upload.objects.exists() and not Artwork.objects.exists()
    assert MediaDeletion.objects.count() == 2
