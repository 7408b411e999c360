"""A failed upload gives back the reference it replaced, and its owner is told why it failed.

Every path that fails a row (the media VM's cleanup, the admin action, ``sweep_stuck``) goes
through ``media.services.upload_fail``, whose failure hook ``users`` registers.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from main_api.media.domain_events import UPLOAD_FAILED, UploadFailed
from main_api.media.models import Upload
from main_api.media.services.lifecycle import upload_fail
from main_api.media.services.reprocessing import upload_reprocess
from main_api.media.services.sweeps import uploads_processed_complete
from main_api.users.models import ArtistProfile, PromoterProfile, SiteMedia, User, UserProfile
from tests.helpers.files import files_under
from tests.main_api.support import (
    MEDIA_ID,
    OTHER_MEDIA_ID,
    client_for,
    complete_payload,
    leave_processed,
    make_pending,
    media_client,
)

SMART = "https://cdn.example.test/api/images"
CORRUPT = "resize_optimize: 7-profile-1-ab.jpg: cannot decode jpeg data: VipsJpeg: premature end of JPEG image"
DAMAGED = "We could not read this image: the file is damaged or incomplete."


def smart(media_id: str) -> str:
    return f"{SMART}/{media_id}?size=detail"


def cleanup(image: Upload, reason: str = CORRUPT):
    response = media_client().delete(f"/api/media/cleanup/{image.pk}", {"reason": reason}, format="json")
    assert response.status_code == 200, response.content
    return response


def complete(image: Upload, media_id: str = MEDIA_ID) -> None:
    response = media_client().post(f"/api/media/complete/{image.pk}", complete_payload(media_id), format="json")
    assert response.status_code == 200, response.content


def stored(user: User, field: str) -> str:
    """The raw value of a reference field in the database (not as GET /users/me shows it)."""
    if field == "logo_image":
        model = ArtistProfile if user.user_type == "artist" else PromoterProfile
        return model.objects.get(user=user).logo_path
    column = {"profile_image": "profile_image_path", "header_image": "header_image_path"}[field]
    return getattr(UserProfile.objects.get(user=user), column)


def shown(user: User, field: str):
    key = {"profile_image": "profile_image_path", "header_image": "header_image_path", "logo_image": "logo_path"}
    return client_for(user).get("/users/me").json()[key[field]]


def processed_first(user: User, field: str, media_id: str = MEDIA_ID) -> Upload:
    """An upload to ``field``, processed and through the URL replacement: the field holds its smart URL."""
    first = make_pending(user, field, fmt="PNG" if field == "logo_image" else "JPEG")
    complete(first, media_id)
    assert stored(user, field) == smart(media_id)
    return first


# --- the reference goes back ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_type", "field"),
    [("artist", "profile_image"), ("artist", "header_image"), ("artist", "logo_image"), ("promoter", "logo_image")],
)
def test_a_failed_upload_gives_back_the_previous_image(make_user, temp_dir, user_type, field):
    user = make_user(user_type)
    processed_first(user, field)
    second = make_pending(user, field)
    assert second.previous_reference == smart(MEDIA_ID)
    assert stored(user, field) == second.image_path

    cleanup(second)

    assert stored(user, field) == smart(MEDIA_ID)
    assert shown(user, field) == smart(MEDIA_ID)
    second.refresh_from_db()
    assert (second.status, second.failure_reason) == ("failed", CORRUPT), "the technical reason is kept"
    assert second.image_path.rsplit("/", 1)[1] in [p.name for p in files_under(temp_dir)], "kept for a retry"


@pytest.mark.parametrize("field", ["profile_image", "header_image", "logo_image"])
def test_a_failed_first_upload_leaves_the_field_empty(artist, temp_dir, field):
    image = make_pending(artist, field)
    assert image.previous_reference == ""
    cleanup(image)
    assert stored(artist, field) == ""
    assert shown(artist, field) is None


def test_a_failed_site_image_removes_its_row_only(artist, temp_dir):
    kept = make_pending(artist, "site_image")
    failed = make_pending(artist, "site_image")
    assert failed.previous_reference is None, "a site image adds a row; it replaces nothing"
    assert make_pending(artist, "product_image").previous_reference is None, "nothing refers to a product image"
    assert SiteMedia.objects.filter(user=artist).count() == 2

    cleanup(failed)

    assert list(SiteMedia.objects.filter(user=artist).values_list("media_path", flat=True)) == [kept.image_path]
    assert [s["media_path"] for s in client_for(artist).get("/users/me").json()["site_media"]] == [kept.image_path]


def test_a_newer_upload_is_not_undone(artist, temp_dir):
    processed_first(artist, "profile_image")
    older = make_pending(artist, "profile_image")
    newer = make_pending(artist, "profile_image")
    assert newer.previous_reference == older.image_path

    cleanup(older)
    assert stored(artist, "profile_image") == newer.image_path, "the newer upload keeps the field"

    cleanup(newer)
    assert stored(artist, "profile_image") == smart(MEDIA_ID), (
        "its previous value was the failed older upload: the value before that comes back"
    )


def test_a_newer_upload_that_fails_first_gives_back_the_older_pending_one(artist, temp_dir):
    older = make_pending(artist, "profile_image")
    newer = make_pending(artist, "profile_image")
    cleanup(newer)
    assert stored(artist, "profile_image") == older.image_path
    complete(older)
    assert stored(artist, "profile_image") == smart(MEDIA_ID)


def test_repeated_cleanup_is_harmless_and_does_not_touch_a_later_upload(artist, temp_dir):
    processed_first(artist, "header_image")
    failed = make_pending(artist, "header_image")
    cleanup(failed)
    cleanup(failed)
    assert stored(artist, "header_image") == smart(MEDIA_ID)

    later = make_pending(artist, "header_image")
    assert later.previous_reference == smart(MEDIA_ID)
    cleanup(failed, reason="the VM's healer reports it again")
    assert stored(artist, "header_image") == later.image_path


def test_the_previous_upload_processed_but_not_yet_replaced_comes_back_and_is_replaced_later(artist, temp_dir):
    first = make_pending(artist, "profile_image")
    complete(first)
    leave_processed(first)  # as a crash or an older version left it: the field at its temp path
    second = make_pending(artist, "profile_image")
    assert second.previous_reference == first.image_path

    cleanup(second)

    assert stored(artist, "profile_image") == first.image_path
    assert shown(artist, "profile_image") == smart(MEDIA_ID)
    uploads_processed_complete()
    assert stored(artist, "profile_image") == smart(MEDIA_ID)


def test_the_previous_upload_completed_meanwhile_comes_back_as_its_smart_url(artist, temp_dir):
    first = make_pending(artist, "logo_image", fmt="PNG")
    complete(first)
    second = make_pending(artist, "logo_image")
    assert Upload.objects.get(pk=first.pk).status == "complete"

    cleanup(second)

    assert stored(artist, "logo_image") == smart(MEDIA_ID), "not the temp path the replacement has passed"


def test_a_failed_reprocessing_leaves_the_references_alone(artist, temp_dir):
    first = processed_first(artist, "profile_image")
    again = upload_reprocess(image_id=first.pk)
    assert again.previous_reference is None
    cleanup(again)
    assert stored(artist, "profile_image") == smart(MEDIA_ID)


def test_another_users_field_holding_the_same_text_is_not_touched(artist, make_user, temp_dir):
    other = make_user("artist")
    failed = make_pending(artist, "profile_image")
    UserProfile.objects.filter(user=other).update(profile_image_path=failed.image_path)
    cleanup(failed)
    assert stored(other, "profile_image") == failed.image_path


# --- every path that fails a row ------------------------------------------------------------


def test_the_admin_action_gives_back_the_previous_image(artist, temp_dir):
    processed_first(artist, "profile_image")
    failed = make_pending(artist, "profile_image")
    staff = Client()
    staff.force_login(User.objects.create_superuser("root", "root@example.test", "pw-for-tests-only"))

    response = staff.post("/admin/media/upload/",
                          {"action": "fail_and_clean_up", "_selected_action": [str(failed.pk)]}, follow=True)

    assert "Failed 1 image(s)." in [str(m) for m in response.context["messages"]]
    assert stored(artist, "profile_image") == smart(MEDIA_ID)
    [owner_view] = [p for p in client_for(artist).get("/users/me").json()["pending_images"] if p["id"] == failed.pk]
    assert owner_view["failure_reason"] == "Processing was stopped by our team."
    page = staff.get(f"/admin/media/upload/{failed.pk}/change/").content.decode()
    assert "failed by root in the admin" in page, "the admin keeps the technical reason"
    assert smart(MEDIA_ID).replace("&", "&amp;") in page, "and shows the previous reference"


def test_sweep_stuck_with_fail_gives_back_the_previous_image(artist, temp_dir):
    processed_first(artist, "header_image", media_id=OTHER_MEDIA_ID)
    stuck = make_pending(artist, "header_image")
    long_ago = timezone.now() - timedelta(hours=3)
    Upload.objects.filter(pk=stuck.pk).update(created_at=long_ago, updated_at=long_ago)

    call_command("sweep_stuck", "--fail", stdout=StringIO())

    assert Upload.objects.get(pk=stuck.pk).status == "failed"
    assert stored(artist, "header_image") == smart(OTHER_MEDIA_ID)


def broken_failure_handler(event: UploadFailed) -> None:
    raise RuntimeError("a handler after the restore fails")


def test_the_restore_is_part_of_the_failure_transaction(artist, temp_dir):
    processed_first(artist, "profile_image")
    failed = make_pending(artist, "profile_image")

    UPLOAD_FAILED.connect(broken_failure_handler)
    try:
        with pytest.raises(RuntimeError):
            upload_fail(image_id=failed.pk, reason=CORRUPT)
    finally:
        UPLOAD_FAILED.disconnect(broken_failure_handler)

    failed.refresh_from_db()
    assert failed.status == "pending", "the failure was rolled back"
    assert stored(artist, "profile_image") == failed.image_path, "and the restore with it"
    assert any(failed.image_path.rsplit("/", 1)[1] == p.name for p in files_under(temp_dir)), "the file is kept"


def test_the_hook_is_registered_once(settings):
    from django.apps import apps

    from main_api.users.services import failed_upload_references_restore

    apps.get_app_config("users").ready()
    assert UPLOAD_FAILED.handlers.count(failed_upload_references_restore) == 1


# --- the owner sees why -----------------------------------------------------------------------


def test_the_owner_sees_why_in_words_and_the_admin_keeps_the_detail(artist, temp_dir):
    processed_first(artist, "profile_image")
    failed = make_pending(artist, "profile_image")
    pending = make_pending(artist, "header_image")
    cleanup(failed)

    body = client_for(artist).get("/users/me").json()

    by_id = {p["id"]: p for p in body["pending_images"]}
    assert by_id[failed.pk]["status"] == "failed"
    assert by_id[failed.pk]["failure_reason"] == DAMAGED
    assert by_id[pending.pk]["failure_reason"] is None
    assert "VipsJpeg" not in str(body), "the technical detail is not shown to the owner"
    assert Upload.objects.get(pk=failed.pk).failure_reason == CORRUPT


def test_failure_reason_is_in_the_schema(client, db):
    import yaml

    doc = yaml.safe_load(client.get("/api/schema/").content)
    profile = doc["paths"]["/users/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    schemas = doc["components"]["schemas"]
    pending_ref = schemas[profile["$ref"].rsplit("/", 1)[1]]["properties"]["pending_images"]["items"]["$ref"]
    prop = schemas[pending_ref.rsplit("/", 1)[1]]["properties"]["failure_reason"]
    assert prop["type"] == "string" and prop["nullable"] is True and "owner" in prop["description"]


@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite has no row locks to show")
def test_the_previous_value_is_read_under_a_row_lock(artist, temp_dir):
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    from main_api.users.references import reference_get_for_update

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        reference_get_for_update(user=artist, target="profile_image")
    assert "FOR UPDATE" in queries.captured_queries[-1]["sql"]
