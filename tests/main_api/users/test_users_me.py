"""GET /users/me: the profile, with smart URLs for processed images."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from main_api.media.models import Upload
from tests.main_api.support import MEDIA_ID, OTHER_MEDIA_ID, client_for, complete_payload, make_pending, media_client

SMART = "https://cdn.example.test/api/images"


def test_a_new_user_profile(make_user):
    user = make_user("promoter", username="rita")
    response = client_for(user).get("/users/me")
    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "username": "rita",
        "user_type": "promoter",
        "display_name": "",
        "bio": "",
        "profile_image_path": None,
        "header_image_path": None,
        "logo_path": None,
        "site_media": [],
        "pending_images": [],
    }


def test_with_and_without_trailing_slash_and_both_keywords(artist):
    for path in ("/users/me", "/users/me/"):
        for keyword in ("Token", "Bearer"):
            assert client_for(artist, keyword).get(path).status_code == 200


def test_without_or_with_a_bad_token_is_401_json(db):
    response = APIClient().get("/users/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "message": "Authentication credentials were not provided.",
        "extra": {"code": "not_authenticated"},
    }
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token nope")
    assert bad.get("/users/me").status_code == 401


def test_processed_images_show_smart_urls_the_rest_temp_paths(artist, temp_dir):
    profile = make_pending(artist, "profile_image")
    header = make_pending(artist, "header_image")
    logo = make_pending(artist, "logo_image", fmt="PNG")
    site = make_pending(artist, "site_image")
    media_client().post(f"/api/media/complete/{profile.pk}", complete_payload(MEDIA_ID), format="json")
    media_client().post(f"/api/media/complete/{site.pk}", complete_payload(OTHER_MEDIA_ID), format="json")
    media_client().delete(f"/api/media/cleanup/{logo.pk}")

    body = client_for(artist).get("/users/me").json()

    assert body["profile_image_path"] == f"{SMART}/{MEDIA_ID}?size=detail"
    assert body["header_image_path"] == header.image_path
    assert body["logo_path"] is None, "the failed logo gave back what was there before: nothing"
    assert body["site_media"][0]["media_path"] == f"{SMART}/{OTHER_MEDIA_ID}?size=detail"
    by_id = {img["id"]: img for img in body["pending_images"]}
    assert by_id[profile.pk]["status"] == "complete"
    assert by_id[profile.pk]["media_id"] == MEDIA_ID
    assert by_id[profile.pk]["smart_url"] == f"{SMART}/{MEDIA_ID}?size=detail"
    assert by_id[header.pk] | {"created_at": None} == {
        "id": header.pk,
        "status": "pending",
        "data_type": "profile",
        "media_id": None,
        "smart_url": None,
        "created_at": None,
        "failure_reason": None,
        "field": "header_image",
        "stage": "queued",
        "duplicate_of": None,
    }
    assert by_id[logo.pk]["status"] == "failed"
    assert by_id[logo.pk]["failure_reason"] == "We could not process this image."
    # newest first
    assert [img["id"] for img in body["pending_images"]] == sorted(by_id, reverse=True)


def test_another_users_images_never_show(artist, make_user, temp_dir):
    make_pending(make_user("artist"), "profile_image")
    body = client_for(artist).get("/users/me").json()
    assert body["pending_images"] == [] and body["profile_image_path"] is None
    assert Upload.objects.count() == 1


@pytest.mark.parametrize("body, fmt, field", [
    ({"display_nam": "typo"}, "json", "display_nam"),
    ({"keep_location": True}, "json", "keep_location"),
    ({"profile_image": "http://elsewhere.example/x.png"}, "json", "profile_image"),
    ({"displayname": "typo"}, "multipart", "displayname"),
])
def test_a_field_the_patch_does_not_take_is_a_400_naming_it_not_a_silent_200(artist, body, fmt, field):
    """Before: 200 with the profile unchanged, so a typo or a field set elsewhere looked saved."""
    before = client_for(artist).get("/users/me").json()
    response = client_for(artist).patch("/users/me", body, format=fmt)
    assert response.status_code == 400, response.content
    assert field in response.json()["extra"]["fields"]
    assert client_for(artist).get("/users/me").json() == before


def test_a_known_text_field_with_an_unknown_one_stores_nothing(artist):
    response = client_for(artist).patch("/users/me", {"display_name": "New", "bioo": "x"}, format="json")
    assert response.status_code == 400
    assert client_for(artist).get("/users/me").json()["display_name"] != "New"
    assert client_for(artist).patch("/users/me", {"display_name": "New"}, format="json").json()["display_name"] == "New"
