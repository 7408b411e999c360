"""The Django admin of pending images: filters and actions, driven as a staff user would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from main_api.media.intake import temp_storage
from main_api.media.models import Upload
from main_api.users.models import User
from tests.helpers.files import files_under
from tests.main_api.support import MEDIA_ID, complete_payload, make_pending, media_client

CHANGELIST = "/admin/media/upload/"


@pytest.fixture
def staff_client(db) -> Client:
    admin_user = User.objects.create_superuser("root", "root@example.test", "pw-for-tests-only")
    client = Client()
    client.force_login(admin_user)
    return client


def listed_ids(response) -> set[int]:
    return {obj.pk for obj in response.context["cl"].result_list}


def test_the_admin_needs_a_staff_login(artist, client):
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(artist)  # a platform user is not staff
    assert client.get(CHANGELIST).status_code == 302


def test_the_changelist_shows_age_and_filters(staff_client, artist, temp_dir):
    fresh = make_pending(artist, "profile_image")
    stuck = make_pending(artist, "header_image")
    failed_today = make_pending(artist, "logo_image")
    failed_long_ago = make_pending(artist, "event_image")
    Upload.objects.filter(pk=stuck.pk).update(
        created_at=timezone.now() - timedelta(hours=3), updated_at=timezone.now() - timedelta(hours=3)
    )
    for image in (failed_today, failed_long_ago):
        media_client().delete(f"/api/media/cleanup/{image.pk}", {"reason": "decoder crashed"}, format="json")
    Upload.objects.filter(pk=failed_long_ago.pk).update(updated_at=timezone.now() - timedelta(days=3))

    response = staff_client.get(CHANGELIST)
    assert response.status_code == 200
    assert listed_ids(response) == {fresh.pk, stuck.pk, failed_today.pk, failed_long_ago.pk}
    page = response.content.decode()
    assert "3\xa0hours" in page and "decoder crashed" in page

    assert listed_ids(staff_client.get(CHANGELIST + "?stuck=yes")) == {stuck.pk}
    assert listed_ids(staff_client.get(CHANGELIST + "?failed_recently=yes")) == {failed_today.pk}
    assert listed_ids(staff_client.get(CHANGELIST + "?status__exact=failed")) == {
        failed_today.pk,
        failed_long_ago.pk,
    }
    assert listed_ids(staff_client.get(CHANGELIST + "?data_type__exact=logo")) == {failed_today.pk}
    assert listed_ids(staff_client.get(CHANGELIST + f"?q={artist.username}")) == {
        fresh.pk,
        stuck.pk,
        failed_today.pk,
        failed_long_ago.pk,
    }


def test_search_by_media_id_and_original_name(staff_client, artist, temp_dir):
    done = make_pending(artist, "profile_image", fmt="PNG")
    other = make_pending(artist, "site_image")
    media_client().post(f"/api/media/complete/{done.pk}", complete_payload(), format="json")
    assert listed_ids(staff_client.get(CHANGELIST + f"?q={MEDIA_ID}")) == {done.pk}
    assert listed_ids(staff_client.get(CHANGELIST + "?q=site_image.jpeg")) == {other.pk}


def run_action(client: Client, action: str, ids: list[int]):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [str(i) for i in ids]}, follow=True)


def test_fail_and_clean_up_action(staff_client, artist, temp_dir):
    a, b = make_pending(artist, "profile_image"), make_pending(artist, "product_image")
    done = make_pending(artist, "header_image")
    media_client().post(f"/api/media/complete/{done.pk}", complete_payload(), format="json")
    assert len(files_under(temp_dir)) == 3

    response = run_action(staff_client, "fail_and_clean_up", [a.pk, b.pk, done.pk])

    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert "Failed 2 image(s)." in messages
    assert any(f"#{done.pk}: image is already processed" in m for m in messages)
    statuses = dict(Upload.objects.values_list("pk", "status"))
    assert (statuses[a.pk], statuses[b.pk], statuses[done.pk]) == ("failed", "failed", "complete")
    assert Upload.objects.get(pk=a.pk).failure_reason == "failed by root in the admin"
    assert len(files_under(temp_dir)) == 3, "the originals are kept for a retry (FAILED_RETENTION_DAYS)"


def test_retry_action(staff_client, artist, temp_dir):
    stuck = make_pending(artist, "profile_image")
    Upload.objects.filter(pk=stuck.pk).update(status="failed", failure_reason="VM was down")
    cleaned = make_pending(artist, "header_image")
    media_client().delete(f"/api/media/cleanup/{cleaned.pk}")
    temp_storage.remove(cleaned.image_path)  # swept past FAILED_RETENTION_DAYS

    response = run_action(staff_client, "retry", [stuck.pk, cleaned.pk])

    messages = [str(m) for m in response.context["messages"]]
    assert "Retried 1 image(s)." in messages
    assert any("original is no longer kept" in m for m in messages)
    stuck.refresh_from_db()
    assert (stuck.status, stuck.failure_reason) == ("pending", "")
    assert Upload.objects.get(pk=cleaned.pk).status == "failed"
    # and the media VM sees it again
    pending = media_client().get("/api/media/pending/all").json()["images"]
    assert [img["id"] for img in pending] == [stuck.pk]


def test_users_and_profiles_are_registered(staff_client, artist):
    for url in ("/admin/users/user/", "/admin/users/userprofile/", "/admin/users/artistprofile/",
                "/admin/users/promoterprofile/", "/admin/users/sitemedia/", f"/admin/users/user/{artist.pk}/change/"):
        assert staff_client.get(url).status_code == 200, url
    assert staff_client.get("/admin").status_code == 302


def test_delete_everywhere_action_goes_through_the_deletion_flow(staff_client, artist, temp_dir):
    done = make_pending(artist, "profile_image")
    media_client().post(f"/api/media/complete/{done.pk}", complete_payload(MEDIA_ID), format="json")
    pending = make_pending(artist, "header_image")

    response = run_action(staff_client, "delete_everywhere", [done.pk, pending.pk])

    assert "Deleted 2 image(s)." in [str(m) for m in response.context["messages"]]
    assert not Upload.objects.filter(pk__in=[done.pk, pending.pk]).exists()
    from main_api.media.models import MediaDeletion

    asked = {(d.upload_id, d.media_id) for d in MediaDeletion.objects.all()}
    assert asked == {(done.pk, MEDIA_ID), (pending.pk, None)}, "the media VM is asked to erase both"


def test_deleting_a_user_in_the_admin_erases_their_uploads(staff_client, artist, temp_dir):
    image = make_pending(artist, "profile_image")
    media_client().post(f"/api/media/complete/{image.pk}", complete_payload(MEDIA_ID), format="json")

    response = staff_client.post(f"/admin/users/user/{artist.pk}/delete/", {"post": "yes"}, follow=True)

    assert response.status_code == 200
    assert not User.objects.filter(pk=artist.pk).exists()
    from main_api.media.models import MediaDeletion

    [deletion] = MediaDeletion.objects.all()
    assert (deletion.upload_id, deletion.media_id) == (image.pk, MEDIA_ID)


def test_the_admin_url_of_before_the_rename_redirects(staff_client, artist, temp_dir):
    """Bookmarks and runbooks of ``/admin/media/pendingimage/...`` (the model was PendingImage)
    reach the same page under its new name, query string included."""
    image = make_pending(artist, "profile_image")
    response = staff_client.get(f"/admin/media/pendingimage/{image.pk}/change/?_changelist_filters=x")
    assert response.status_code == 301
    assert response["Location"] == f"/admin/media/upload/{image.pk}/change/?_changelist_filters=x"
    assert staff_client.get(response["Location"]).status_code == 200
    assert staff_client.get("/admin/media/pendingimage/").headers["Location"] == CHANGELIST
