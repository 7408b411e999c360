"""Uploads as a resource of their owner: the variants the media VM reports on completion,
``GET /api/uploads`` and ``GET /api/uploads/{id}``, and the owner reading their analysis."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from main_api.media.intake import temp_storage
from main_api.media.models import Upload
from main_api.media.services.sweeps import uploads_processed_complete
from main_api.users.models import SiteMedia, UserProfile
from tests.main_api.support import (
    MEDIA_ID,
    OTHER_MEDIA_ID,
    client_for,
    complete_payload,
    make_pending,
    media_client,
)

SMART = "https://cdn.example.test/api/images"
CORRUPT = "resize_optimize: x.jpg: cannot decode jpeg data: VipsJpeg: premature end of JPEG image"


def variant(size: str, fmt: str, width: int, height: int, bg: str = "original") -> dict:
    return {"size": size, "format": fmt, "bg": bg, "width": width, "height": height, "bytes": 1234}


VARIANTS = [
    variant(size, fmt, w, h)
    for size, (w, h) in {"thumbnail": (300, 300), "small": (640, 427), "detail": (1200, 800)}.items()
    for fmt in ("avif", "webp", "jpeg")
]


def complete(image: Upload, media_id: str = MEDIA_ID, **overrides):
    response = media_client().post(
        f"/api/media/complete/{image.pk}", complete_payload(media_id, **overrides), format="json"
    )
    assert response.status_code == 200, response.content
    return response


# --- the completion carries the variants ----------------------------------------------------


def test_complete_stores_the_variants_with_their_real_sizes(artist, temp_dir):
    image = make_pending(artist)
    complete(image, variants=VARIANTS)
    image.refresh_from_db()
    assert image.variants == VARIANTS


def test_complete_without_variants_still_works_as_from_an_older_vm(artist, temp_dir):
    image = make_pending(artist)
    complete(image)
    image.refresh_from_db()
    assert (image.status, image.variants) == ("complete", [])


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        pytest.param({"format": "bmp"}, "format", id="unknown-format"),
        pytest.param({"bg": "transparent"}, "bg", id="unknown-bg"),
        pytest.param({"width": 0}, "width", id="zero-width"),
        pytest.param({"height": -5}, "height", id="negative-height"),
        pytest.param({"bytes": "many"}, "bytes", id="bytes-not-a-number"),
    ],
)
def test_complete_with_a_bad_variant_is_400_naming_it(bad, field, artist, temp_dir):
    image = make_pending(artist)
    response = media_client().post(
        f"/api/media/complete/{image.pk}", complete_payload(variants=[{**VARIANTS[0], **bad}]), format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]["variants"]["0"]) == [field]
    assert Upload.objects.get(pk=image.pk).status == "pending"


# --- GET /api/uploads/{id} ------------------------------------------------------------------


def test_a_pending_upload_is_queued(artist, temp_dir):
    image = make_pending(artist, "header_image")
    body = client_for(artist).get(f"/api/uploads/{image.pk}").json()
    assert body == {
        "id": image.pk, "field": "header_image", "data_type": "profile", "original_name": "header_image.jpeg",
        "status": "pending", "stage": "queued", "failure_reason": None, "attempts": 1, "retryable": False,
        "created_at": body["created_at"], "processed_at": None, "media_id": None, "thumbnail_url": None,
        "smart_url": None,
        "width": None, "height": None, "variants": [], "background": None, "background_removed": None,
        "duplicate_of": None, "source_tool": None, "placeholder": None, "exif": None, "analysis": None,
    }
    assert body["created_at"]


def test_a_processed_upload_has_its_sizes_variants_and_analysis(artist, temp_dir):
    earlier = make_pending(artist, "product_image")
    complete(earlier, OTHER_MEDIA_ID)
    image = make_pending(artist, "product_image")
    analysis = {"quality_score": 0.8, "width": 1800, "height": 1200, "duplicate_of": OTHER_MEDIA_ID}
    complete(image, variants=list(reversed(VARIANTS)), ai_analysis=analysis)

    body = client_for(artist).get(f"/api/uploads/{image.pk}").json()
    assert (body["status"], body["stage"], body["media_id"]) == ("complete", "processed", MEDIA_ID)
    assert body["smart_url"] == f"{SMART}/{MEDIA_ID}?size=detail"
    assert (body["width"], body["height"]) == (1800, 1200)
    assert body["variants"] == [
        {"size": size, "width": w, "height": h, "formats": ["avif", "webp", "jpeg"],
         "url": f"{SMART}/{MEDIA_ID}?size={size}"}
        for size, w, h in (("thumbnail", 300, 300), ("small", 640, 427), ("detail", 1200, 800))
    ]
    assert body["analysis"] == analysis
    assert body["duplicate_of"] == earlier.pk
    assert body["processed_at"]


def test_an_older_vm_leaves_the_variant_sizes_without_pixels(artist, temp_dir):
    image = make_pending(artist, "product_image")
    complete(image, sizes_available=["thumbnail", "detail"], formats_available=["webp", "jpeg"])
    body = client_for(artist).get(f"/api/uploads/{image.pk}").json()
    assert body["variants"] == [
        {"size": "thumbnail", "width": None, "height": None, "formats": ["webp", "jpeg"],
         "url": f"{SMART}/{MEDIA_ID}?size=thumbnail"},
        {"size": "detail", "width": None, "height": None, "formats": ["webp", "jpeg"],
         "url": f"{SMART}/{MEDIA_ID}?size=detail"},
    ]
    assert body["duplicate_of"] is None


def test_a_failed_upload_says_why_in_words_and_whether_it_can_be_retried(artist, temp_dir):
    image = make_pending(artist)
    response = media_client().delete(f"/api/media/cleanup/{image.pk}", {"reason": CORRUPT}, format="json")
    assert response.status_code == 200
    body = client_for(artist).get(f"/api/uploads/{image.pk}").json()
    assert (body["status"], body["stage"]) == ("failed", "failed")
    assert body["failure_reason"] == "We could not read this image: the file is damaged or incomplete."
    assert "premature" not in str(body)
    assert body["retryable"] is True, "its original is kept for a retry"
    temp_storage.remove(image.image_path)
    assert client_for(artist).get(f"/api/uploads/{image.pk}").json()["retryable"] is False


def test_a_logo_has_a_background(artist, temp_dir):
    image = make_pending(artist, "logo_image", fmt="PNG")
    complete(image, variants=[*VARIANTS, variant("detail", "png", 1200, 800, bg="removed")],
             ai_analysis={"background_removed": True})
    body = client_for(artist).get(f"/api/uploads/{image.pk}").json()
    assert (body["field"], body["background"], body["background_removed"]) == ("logo_image", "original", True)


def test_someone_elses_upload_and_an_unknown_one_are_404(artist, make_user, temp_dir):
    image = make_pending(artist)
    other = client_for(make_user("promoter"))
    for path in (f"/api/uploads/{image.pk}", "/api/uploads/999999"):
        response = other.get(path)
        assert response.status_code == 404, path
        assert set(response.json()) == {"message", "extra"}


def test_the_media_key_reads_any_upload_and_nobody_else_without_a_token(artist, client, temp_dir):
    image = make_pending(artist)
    assert media_client().get(f"/api/uploads/{image.pk}").json()["id"] == image.pk
    assert client.get(f"/api/uploads/{image.pk}").status_code == 401


# --- GET /api/uploads ---------------------------------------------------------------------


def test_the_list_is_the_users_uploads_newest_first_a_page_at_a_time(artist, make_user, temp_dir):
    mine = [make_pending(artist, "product_image") for _ in range(5)]
    make_pending(make_user("artist"), "product_image")  # someone else's
    owner = client_for(artist)

    first = owner.get("/api/uploads?limit=2").json()
    assert [u["id"] for u in first["results"]] == [mine[4].pk, mine[3].pk]
    assert first["previous"] is None and first["next"]
    second = owner.get(first["next"]).json()
    third = owner.get(second["next"]).json()
    assert [u["id"] for u in second["results"] + third["results"]] == [mine[2].pk, mine[1].pk, mine[0].pk]
    assert third["next"] is None


def test_the_list_filters_by_status_and_data_type(artist, temp_dir):
    product = make_pending(artist, "product_image")
    profile = make_pending(artist, "profile_image")
    complete(profile)
    owner = client_for(artist)
    assert [u["id"] for u in owner.get("/api/uploads?status=complete").json()["results"]] == [profile.pk]
    assert owner.get("/api/uploads?status=processed").json()["results"] == []
    assert [u["id"] for u in owner.get("/api/uploads?data_type=product").json()["results"]] == [product.pk]
    assert owner.get("/api/uploads?status=pending&data_type=profile").json()["results"] == []


@pytest.mark.parametrize(("query", "field"), [("status=done", "status"), ("data_type=avatar", "data_type"),
                                               ("limit=0", "limit")])
def test_a_bad_filter_is_400_naming_it(query, field, artist, temp_dir):
    response = client_for(artist).get(f"/api/uploads?{query}")
    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == [field]


def test_the_list_needs_a_user_token(client, db):
    assert client.get("/api/uploads").status_code == 401
    assert media_client().get("/api/uploads").status_code == 401


# --- the owner reads the analysis of their image ------------------------------------------


def test_the_owner_reads_their_analysis_and_another_user_gets_404(artist, make_user, temp_dir):
    image = make_pending(artist)
    complete(image, ai_analysis={"quality_score": 0.5})
    assert client_for(artist).get(f"/api/media/analysis/{MEDIA_ID}").json() == {
        "success": True, "analysis": {"quality_score": 0.5},
    }
    response = client_for(make_user("promoter")).get(f"/api/media/analysis/{MEDIA_ID}")
    assert response.status_code == 404
    assert media_client().get(f"/api/media/analysis/{MEDIA_ID}").status_code == 200


# --- retry, and how long a failed original is kept -----------------------------------------


def fail(image: Upload, reason: str = CORRUPT) -> None:
    response = media_client().delete(f"/api/media/cleanup/{image.pk}", {"reason": reason}, format="json")
    assert response.status_code == 200, response.content


def test_retry_puts_a_failed_upload_back_in_the_queue_and_its_field_back_on_it(artist, temp_dir):
    first = make_pending(artist, "profile_image")
    complete(first)
    uploads_processed_complete()
    second = make_pending(artist, "profile_image")
    fail(second)
    profile = UserProfile.objects.get(user=artist)
    assert profile.profile_image_path == f"{SMART}/{MEDIA_ID}?size=detail", "the failure gave the first back"

    response = client_for(artist).post(f"/api/uploads/{second.pk}/retry")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["stage"], body["attempts"]) == ("pending", "queued", 2)
    assert (body["failure_reason"], body["retryable"]) == (None, False)
    second.refresh_from_db()
    assert (second.status, second.failure_reason, second.attempts) == ("pending", "", 2)
    profile.refresh_from_db()
    assert profile.profile_image_path == second.image_path, "the field points at the retried upload again"
    listed = media_client().get("/api/media/pending/all").json()["images"]
    assert [i["id"] for i in listed] == [second.pk]


def test_retry_leaves_a_field_the_user_has_since_changed(artist, temp_dir):
    failed = make_pending(artist, "profile_image")
    fail(failed)
    newer = make_pending(artist, "profile_image")
    assert client_for(artist).post(f"/api/uploads/{failed.pk}/retry").status_code == 200
    assert UserProfile.objects.get(user=artist).profile_image_path == newer.image_path


def test_retry_of_a_site_image_gives_it_its_row_back(artist, temp_dir):
    image = make_pending(artist, "site_image")
    fail(image)
    assert not SiteMedia.objects.filter(user=artist).exists()
    assert client_for(artist).post(f"/api/uploads/{image.pk}/retry").status_code == 200
    assert list(SiteMedia.objects.filter(user=artist).values_list("media_path", flat=True)) == [image.image_path]


def test_retry_of_an_upload_that_has_not_failed_is_409(artist, temp_dir):
    pending = make_pending(artist, "product_image")
    done = make_pending(artist, "product_image")
    complete(done)
    for image in (pending, done):
        response = client_for(artist).post(f"/api/uploads/{image.pk}/retry")
        assert response.status_code == 409, image.status
        assert set(response.json()) == {"message", "extra"}
    assert Upload.objects.get(pk=pending.pk).attempts == 1


def test_retry_once_the_original_is_gone_is_410(artist, temp_dir):
    image = make_pending(artist, "product_image")
    fail(image)
    temp_storage.remove(image.image_path)
    response = client_for(artist).post(f"/api/uploads/{image.pk}/retry")
    assert response.status_code == 410
    assert Upload.objects.get(pk=image.pk).status == "failed"


def test_retry_of_someone_elses_or_an_unknown_upload_is_404(artist, make_user, temp_dir):
    image = make_pending(artist, "product_image")
    fail(image)
    other = client_for(make_user("promoter"))
    assert other.post(f"/api/uploads/{image.pk}/retry").status_code == 404
    assert other.post("/api/uploads/999999/retry").status_code == 404
    assert Upload.objects.get(pk=image.pk).status == "failed"


def test_failed_originals_are_swept_after_the_retention(artist, settings, temp_dir):
    settings.FAILED_RETENTION_DAYS = 7
    old, recent, pending = (make_pending(artist, "product_image") for _ in range(3))
    fail(old)
    fail(recent)
    Upload.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=8))
    Upload.objects.filter(pk=pending.pk).update(updated_at=timezone.now() - timedelta(days=30))

    out = StringIO()
    call_command("sweep_failed", stdout=out)

    assert "originals deleted 1" in out.getvalue()
    kept = {p.name for p in temp_dir.rglob("*") if p.is_file()}
    assert kept == {recent.image_path.rsplit("/", 1)[1], pending.image_path.rsplit("/", 1)[1]}
    assert client_for(artist).post(f"/api/uploads/{old.pk}/retry").status_code == 410
    assert client_for(artist).post(f"/api/uploads/{recent.pk}/retry").status_code == 200


def test_the_scheduler_sweeps_failed_originals_too(artist, settings, temp_dir):
    settings.FAILED_RETENTION_DAYS = 0
    image = make_pending(artist, "product_image")
    fail(image)
    Upload.objects.filter(pk=image.pk).update(updated_at=timezone.now() - timedelta(seconds=1))
    out = StringIO()
    call_command("run_scheduler", "--once", stdout=out)
    assert "deleted 1 expired failed original(s)" in out.getvalue()


# --- a logo's background ------------------------------------------------------------------


def processed_logo(user) -> Upload:
    image = make_pending(user, "logo_image", fmt="PNG")
    complete(image, variants=[*VARIANTS, *(variant(v["size"], v["format"], v["width"], v["height"], bg="removed")
                                          for v in VARIANTS)], ai_analysis={"background_removed": True})
    return image


def test_a_logo_owner_chooses_the_removed_background_and_its_urls_carry_it(artist, temp_dir):
    image = processed_logo(artist)
    response = client_for(artist).patch(f"/api/uploads/{image.pk}", {"background": "removed"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["background"] == "removed"
    assert body["smart_url"] == f"{SMART}/{MEDIA_ID}?size=detail&bg=removed"
    assert {v["url"] for v in body["variants"]} == {f"{SMART}/{MEDIA_ID}?size={s}&bg=removed"
                                                    for s in ("thumbnail", "small", "detail")}
    # the profile's logo field shows the same URL, before and after the URL replacement
    assert client_for(artist).get("/users/me").json()["logo_path"] == f"{SMART}/{MEDIA_ID}?size=detail&bg=removed"
    uploads_processed_complete()
    assert client_for(artist).get("/users/me").json()["logo_path"] == f"{SMART}/{MEDIA_ID}?size=detail&bg=removed"
    back = client_for(artist).patch(f"/api/uploads/{image.pk}", {"background": "original"}, format="json").json()
    assert (back["background"], back["smart_url"]) == ("original", f"{SMART}/{MEDIA_ID}?size=detail")
    assert client_for(artist).get("/users/me").json()["logo_path"] == f"{SMART}/{MEDIA_ID}?size=detail"


@pytest.mark.parametrize("body", [{"background": "transparent"}, {}, {"background": None}])
def test_a_bad_background_is_400_naming_the_field(body, artist, temp_dir):
    image = processed_logo(artist)
    response = client_for(artist).patch(f"/api/uploads/{image.pk}", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["background"]


def test_only_a_logo_has_a_background_to_choose(artist, temp_dir):
    image = make_pending(artist, "product_image")
    response = client_for(artist).patch(f"/api/uploads/{image.pk}", {"background": "removed"}, format="json")
    assert response.status_code == 400
    assert response.json()["extra"]["field"] == "background"
    assert Upload.objects.get(pk=image.pk).background == ""


def test_someone_elses_logo_is_404(artist, make_user, temp_dir):
    image = processed_logo(artist)
    other = client_for(make_user("promoter"))
    assert other.patch(f"/api/uploads/{image.pk}", {"background": "removed"}, format="json").status_code == 404
    assert Upload.objects.get(pk=image.pk).background == ""


def test_the_image_url_serves_the_chosen_background_unless_bg_says_otherwise(artist, temp_dir):
    from main_api.media.selectors.uploads import default_background_for_media

    image = processed_logo(artist)
    assert default_background_for_media(media_id=MEDIA_ID) is None
    client_for(artist).patch(f"/api/uploads/{image.pk}", {"background": "removed"}, format="json")
    assert default_background_for_media(media_id=MEDIA_ID) == "removed"
    assert default_background_for_media(media_id=OTHER_MEDIA_ID) is None
