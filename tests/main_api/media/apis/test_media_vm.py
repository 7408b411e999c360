"""The media VM's API: /api/media/* behind the media key."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from main_api.media.models import Upload
from main_api.media.services.lifecycle import upload_complete, upload_fail
from tests.helpers.files import files_under
from tests.main_api.support import (
    MEDIA_ID,
    MEDIA_KEY,
    OLD_MEDIA_KEY,
    OTHER_MEDIA_ID,
    client_for,
    complete_payload,
    make_pending,
    media_client,
)

SMART = "https://cdn.example.test/api/images"

ENDPOINTS = [
    ("get", "/api/media/pending/all"),
    ("post", "/api/media/complete/1"),
    ("delete", "/api/media/cleanup/1"),
    ("get", f"/api/media/analysis/{MEDIA_ID}"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param("Bearer wrong-key", id="wrong"),
        pytest.param(f"Bearer {MEDIA_KEY}x", id="longer"),
        pytest.param(f"Bearer {MEDIA_KEY[:-1]}", id="prefix"),
        pytest.param(f"Token {MEDIA_KEY}", id="token-keyword"),
        pytest.param("Bearer", id="empty"),
    ],
)
def test_without_a_valid_media_key_everything_is_401(method, path, authorization, client, db):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = getattr(client, method)(path, **headers)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"success", "message", "extra"} and body["success"] is False
    assert MEDIA_KEY not in response.content.decode()


def test_a_user_token_is_not_a_media_key(artist, db):
    assert client_for(artist, "Bearer").get("/api/media/pending/all").status_code == 401


def test_any_configured_key_works_while_rotating(settings, db):
    settings.MEDIA_API_KEYS = ["brand-new-key", MEDIA_KEY, OLD_MEDIA_KEY]
    for key in ("brand-new-key", MEDIA_KEY, OLD_MEDIA_KEY):
        assert media_client(key).get("/api/media/pending/all").status_code == 200
    settings.MEDIA_API_KEYS = ["brand-new-key"]
    assert media_client(OLD_MEDIA_KEY).get("/api/media/pending/all").status_code == 401


def test_every_key_is_compared_in_constant_time(settings, monkeypatch):
    import hmac

    from main_api.common import authentication

    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(authentication.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    settings.MEDIA_API_KEYS = ["k1", "k2", "k3"]
    assert authentication.media_key_matches("k1") == 0
    assert len(calls) == 3  # no early exit on the first match


def test_no_configured_key_lets_nobody_in(settings, db):
    settings.MEDIA_API_KEYS = []
    assert media_client("").get("/api/media/pending/all").status_code == 401
    assert media_client(MEDIA_KEY).get("/api/media/pending/all").status_code == 401


# --- pending/all ------------------------------------------------------------------------------


def test_pending_all_lists_pending_rows_oldest_first(artist, make_user, temp_dir):
    other = make_user("promoter")
    first = make_pending(artist, "profile_image")
    second = make_pending(other, "logo_image", fmt="PNG")
    third = make_pending(artist, "site_image", fmt="WEBP")
    done = make_pending(artist, "event_image")
    failed = make_pending(artist, "product_image")
    Upload.objects.filter(pk=first.pk).update(created_at=timezone.now() - timezone.timedelta(hours=2))
    upload_complete(
        image_id=done.pk, media_id=MEDIA_ID, permanent_url="", formats_available=[], sizes_available=[], ai_analysis={}
    )
    upload_fail(image_id=failed.pk, reason="x")

    response = media_client().get("/api/media/pending/all")

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert [img["id"] for img in body["images"]] == [first.pk, second.pk, third.pk]
    item = body["images"][1]
    assert item == {
        "id": second.pk,
        "user_id": other.pk,
        "image_path": second.image_path,
        "original_name": "logo_image.png",
        "mime_type": "image/png",
        "data_type": "logo",
        "status": "pending",
        "created_at": item["created_at"],
        "request_id": None,  # uploaded through the service, not over HTTP
        "keep_location": False,  # the profile's default: the media VM stores no GPS position
        "queued_at": None,  # its first round: no retry has put it back
        "watermark": None,  # not an artwork
        "source_tool": None,  # no tool named
    }
    assert datetime.fromisoformat(item["created_at"].replace("Z", "+00:00")) == second.created_at

    limited = media_client().get("/api/media/pending/all?limit=2").json()
    assert [img["id"] for img in limited["images"]] == [first.pk, second.pk] and limited["total"] == 2
    for bad in ("0", "501", "many"):
        response = media_client().get(f"/api/media/pending/all?limit={bad}")
        assert response.status_code == 400 and "limit" in response.json()["extra"]["fields"]


def test_pending_all_is_fair_between_users_so_a_backlog_hides_nobody(artist, make_user, temp_dir, settings):
    """One user's backlog longer than a listing: each user's oldest row first, round-robin."""
    settings.MEDIA_PENDING_LIST_SIZE = 4
    backlog = [make_pending(artist, "site_image") for _ in range(6)]
    other = make_user("promoter")
    late = make_pending(other, "logo_image", fmt="PNG")
    late_second = make_pending(other, "event_image")

    listed = [img["id"] for img in media_client().get("/api/media/pending/all").json()["images"]]
    assert listed == [backlog[0].pk, late.pk, backlog[1].pk, late_second.pk]
    newer = media_client().get(f"/api/media/pending/all?after={backlog[2].pk}&limit=2").json()["images"]
    assert [img["id"] for img in newer] == [backlog[3].pk, late.pk]


def test_pending_all_when_there_is_nothing(db):
    body = media_client().get("/api/media/pending/all/").json()
    assert (body["images"], body["total"]) == ([], 0) and body["now"]


# --- complete ---------------------------------------------------------------------------------


def test_complete_records_the_result(artist, temp_dir):
    image = make_pending(artist)
    response = media_client().post(f"/api/media/complete/{image.pk}", complete_payload(), format="json")

    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "imageId": image.pk,
        "media_id": MEDIA_ID,
        "status": "processed",
        "smart_url_preview": f"{SMART}/{MEDIA_ID}?size=detail",
    }
    image.refresh_from_db()
    assert image.status == "complete", "the VM's work is recorded and the references follow at once"
    assert image.media_id == MEDIA_ID
    assert image.permanent_url == f"http://vm.example.test/serve/{MEDIA_ID}"
    assert image.thumbnail_url == f"{SMART}/{MEDIA_ID}?size=thumbnail"
    assert image.ai_analysis["quality_score"] == 0.82
    assert image.formats_available == ["avif", "webp", "jpeg"]
    assert image.sizes_available == ["thumbnail", "grid", "small", "detail"]
    assert image.processed_at is not None


def test_complete_twice_is_the_same_answer_and_changes_nothing(artist, temp_dir):
    image = make_pending(artist)
    url = f"/api/media/complete/{image.pk}"
    first = media_client().post(url, complete_payload(), format="json")
    image.refresh_from_db()
    again = media_client().post(url, complete_payload(ai_analysis={"changed": True}), format="json")

    assert again.status_code == 200 and again.json() == first.json()
    after = Upload.objects.get(pk=image.pk)
    assert (after.processed_at, after.updated_at, after.ai_analysis) == (
        image.processed_at,
        image.updated_at,
        image.ai_analysis,
    )

    Upload.objects.filter(pk=image.pk).update(status="complete")
    third = media_client().post(url, complete_payload(), format="json")
    assert third.status_code == 200 and third.json() == first.json()
    assert Upload.objects.get(pk=image.pk).status == "complete"


def test_complete_with_another_media_id_is_a_conflict(artist, temp_dir):
    image = make_pending(artist)
    url = f"/api/media/complete/{image.pk}"
    media_client().post(url, complete_payload(), format="json")

    response = media_client().post(url, complete_payload(OTHER_MEDIA_ID), format="json")

    assert response.status_code == 409
    assert response.json()["extra"]["media_id"] == MEDIA_ID
    assert Upload.objects.get(pk=image.pk).media_id == MEDIA_ID


def test_a_media_id_belongs_to_one_image(artist, temp_dir):
    one, two = make_pending(artist), make_pending(artist, "header_image")
    assert media_client().post(f"/api/media/complete/{one.pk}", complete_payload(), format="json").status_code == 200
    response = media_client().post(f"/api/media/complete/{two.pk}", complete_payload(), format="json")
    assert response.status_code == 409
    assert Upload.objects.get(pk=two.pk).status == "pending"


def test_complete_of_a_failed_row_is_a_conflict(artist, temp_dir):
    image = make_pending(artist)
    upload_fail(image_id=image.pk, reason="gave up")
    response = media_client().post(f"/api/media/complete/{image.pk}", complete_payload(), format="json")
    assert response.status_code == 409
    assert Upload.objects.get(pk=image.pk).status == "failed"


def test_complete_of_an_unknown_image_is_404(db):
    response = media_client().post("/api/media/complete/999999", complete_payload(), format="json")
    assert response.status_code == 404 and response.json()["extra"] == {"id": 999999}


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(complete_payload("NOT-A-MEDIA-ID"), id="media-id-shape"),
        pytest.param(complete_payload(MEDIA_ID.upper()), id="media-id-uppercase"),
        pytest.param({k: v for k, v in complete_payload().items() if k != "media_id"}, id="media-id-missing"),
        pytest.param(complete_payload(formats_available=["bmp"]), id="unknown-format"),
        pytest.param(complete_payload(formats_available="avif"), id="formats-not-a-list"),
        pytest.param(complete_payload(ai_analysis=["not", "a", "dict"]), id="analysis-not-a-dict"),
        pytest.param(complete_payload(processing_complete=False), id="not-complete"),
    ],
)
def test_complete_with_a_bad_payload_is_400(payload, artist, temp_dir):
    image = make_pending(artist)
    response = media_client().post(f"/api/media/complete/{image.pk}", payload, format="json")
    assert response.status_code == 400
    assert response.json()["message"] == "Validation error"
    assert Upload.objects.get(pk=image.pk).status == "pending"


def test_complete_with_a_body_that_is_not_json_is_400(artist, temp_dir):
    image = make_pending(artist)
    response = media_client().post(
        f"/api/media/complete/{image.pk}", data=b"{not json", content_type="application/json"
    )
    assert response.status_code == 400 and set(response.json()) == {"success", "message", "extra"}


# --- cleanup ----------------------------------------------------------------------------------


def test_cleanup_fails_the_row_and_keeps_the_file_for_a_retry(artist, temp_dir):
    image = make_pending(artist)
    assert len(files_under(temp_dir)) == 1
    url = f"/api/media/cleanup/{image.pk}"

    response = media_client().delete(url, {"reason": "decoder crashed 3 times"}, format="json")

    assert response.status_code == 200
    assert response.json()["success"] is True and isinstance(response.json()["message"], str)
    image.refresh_from_db()
    assert (image.status, image.failure_reason) == ("failed", "decoder crashed 3 times")
    assert len(files_under(temp_dir)) == 1, "kept until FAILED_RETENTION_DAYS pass"

    again = media_client().delete(url)
    assert again.status_code == 200
    image.refresh_from_db()
    assert (image.status, image.failure_reason) == ("failed", "decoder crashed 3 times")


def test_cleanup_does_not_destroy_finished_work(artist, temp_dir):
    image = make_pending(artist)
    media_client().post(f"/api/media/complete/{image.pk}", complete_payload(), format="json")
    response = media_client().delete(f"/api/media/cleanup/{image.pk}")
    assert response.status_code == 409
    assert Upload.objects.get(pk=image.pk).status == "complete"
    assert len(files_under(temp_dir)) == 1


def test_cleanup_of_an_unknown_image_is_404(db):
    assert media_client().delete("/api/media/cleanup/424242").status_code == 404


# --- analysis ---------------------------------------------------------------------------------


def test_analysis_of_a_processed_image(artist, temp_dir):
    image = make_pending(artist)
    media_client().post(f"/api/media/complete/{image.pk}", complete_payload(), format="json")
    response = media_client().get(f"/api/media/analysis/{MEDIA_ID}")
    assert response.status_code == 200
    assert response.json() == {"success": True, "analysis": complete_payload()["ai_analysis"]}


@pytest.mark.parametrize("media_id", [OTHER_MEDIA_ID, "not-a-media-id", "..%2F..%2Fetc"])
def test_analysis_of_an_unknown_media_id_is_404(media_id, db):
    response = media_client().get(f"/api/media/analysis/{media_id}")
    assert response.status_code == 404 and set(response.json()) == {"success", "message", "extra"}
