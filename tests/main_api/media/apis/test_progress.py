"""Progress reports of the media VM (``POST /api/media/progress/{id}``, issue 15's coarse
half): the upload's ``stage`` moves only forward, its media id and thumbnail URL appear at
``thumbnail_ready``, and late or repeated reports answer 200 and change nothing."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.main_api.support import MEDIA_ID, OTHER_MEDIA_ID, client_for, complete_payload, make_pending, media_client

SMART = "https://cdn.example.test/api/images"


def report(image_id: int, stage: str, media_id: str | None = None, client: APIClient | None = None):
    body = {"stage": stage} | ({"media_id": media_id} if media_id else {})
    return (client or media_client()).post(f"/api/media/progress/{image_id}", body, format="json")


def stage_of(user, image_id: int) -> dict:
    return client_for(user).get(f"/api/uploads/{image_id}").json()


def test_stages_move_forward_and_never_back(artist, temp_dir):
    image = make_pending(artist)
    assert stage_of(artist, image.pk)["stage"] == "queued"

    r = report(image.pk, "retrieved")
    assert r.status_code == 200 and r.json() == {"id": image.pk, "stage": "retrieved", "changed": True}
    body = stage_of(artist, image.pk)
    assert (body["stage"], body["media_id"], body["thumbnail_url"]) == ("retrieved", None, None)

    assert report(image.pk, "thumbnail_ready", MEDIA_ID).json()["changed"] is True
    body = stage_of(artist, image.pk)
    assert (body["status"], body["stage"], body["media_id"]) == ("pending", "thumbnail_ready", MEDIA_ID)
    assert body["thumbnail_url"] == f"{SMART}/{MEDIA_ID}?size=thumbnail"
    assert body["smart_url"] is None, "the detail size is not there yet"

    # late and repeated reports: 200, nothing moves
    for stage in ("retrieved", "thumbnail_ready"):
        r = report(image.pk, stage, MEDIA_ID)
        assert r.status_code == 200 and r.json() == {"id": image.pk, "stage": "thumbnail_ready", "changed": False}
    assert report(image.pk, "variants_ready").json()["stage"] == "variants_ready"
    assert report(image.pk, "analysed").json() == {"id": image.pk, "stage": "variants_ready", "changed": False}

    assert media_client().post(f"/api/media/complete/{image.pk}", complete_payload(MEDIA_ID),
                               format="json").status_code == 200
    assert report(image.pk, "variants_ready").json() == {"id": image.pk, "stage": "processed", "changed": False}
    assert stage_of(artist, image.pk)["stage"] == "processed"


def test_a_failed_upload_ignores_progress_and_a_retry_starts_over(artist, temp_dir):
    image = make_pending(artist)
    report(image.pk, "thumbnail_ready", MEDIA_ID)
    assert media_client().delete(f"/api/media/cleanup/{image.pk}").status_code == 200
    assert report(image.pk, "variants_ready").json() == {"id": image.pk, "stage": "failed", "changed": False}
    body = stage_of(artist, image.pk)
    assert (body["stage"], body["media_id"], body["thumbnail_url"]) == ("failed", None, None)

    assert client_for(artist).post(f"/api/uploads/{image.pk}/retry").status_code == 200
    body = stage_of(artist, image.pk)
    assert (body["stage"], body["media_id"], body["attempts"]) == ("queued", None, 2)
    assert report(image.pk, "thumbnail_ready", OTHER_MEDIA_ID).json()["changed"] is True  # the new round's id
    assert stage_of(artist, image.pk)["media_id"] == OTHER_MEDIA_ID


@pytest.mark.parametrize(("body", "field"), [
    ({"stage": "processed"}, "stage"),  # the complete callback's, not a progress report
    ({"stage": "failed"}, "stage"),
    ({"stage": "nearly"}, "stage"),
    ({}, "stage"),
    ({"stage": "thumbnail_ready", "media_id": "../../etc"}, "media_id"),
])
def test_bad_reports_are_400_and_change_nothing(body, field, artist, temp_dir):
    image = make_pending(artist)
    r = media_client().post(f"/api/media/progress/{image.pk}", body, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()["extra"]["fields"]
    assert stage_of(artist, image.pk)["stage"] == "queued"


def test_unknown_ids_keys_and_users(artist, make_user, temp_dir):
    image = make_pending(artist)
    assert report(999_999, "retrieved").status_code == 404
    assert report(image.pk, "retrieved", client=APIClient()).status_code == 401
    assert report(image.pk, "retrieved", client=client_for(artist)).status_code in (401, 403), "users may not report"
    other = make_pending(make_user("artist"))
    report(other.pk, "thumbnail_ready", MEDIA_ID)
    r = report(image.pk, "thumbnail_ready", MEDIA_ID)
    assert r.status_code == 409, "one media id, one upload"
    assert stage_of(artist, image.pk)["stage"] == "queued"
