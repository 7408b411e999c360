"""Re-processing a finished image: a new pending row, the old one serving until replaced."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from main_api.common.exceptions import ConflictError
from main_api.media.models import Upload
from main_api.media.services.lifecycle import upload_complete, upload_fail
from main_api.media.services.reprocessing import upload_reprocess
from main_api.media.services.sweeps import uploads_processed_complete
from main_api.users.models import UserProfile
from tests.helpers.files import files_under
from tests.main_api.support import MEDIA_ID, OTHER_MEDIA_ID, leave_processed, make_pending, media_client

BASE = "https://cdn.example.test/api/images"


def complete(image, media_id: str) -> None:
    upload_complete(image_id=image.pk, media_id=media_id, permanent_url="", formats_available=["jpeg"],
                           sizes_available=["detail"], ai_analysis={"quality_score": 0.5})


def profile_image(user) -> str:
    return UserProfile.objects.get(user=user).profile_image_path


def test_a_complete_image_is_reprocessed_and_the_profile_follows(artist, user_client, temp_dir):
    first = make_pending(artist, "profile_image")
    complete(first, MEDIA_ID)
    assert profile_image(artist) == f"{BASE}/{MEDIA_ID}?size=detail"

    again = upload_reprocess(image_id=first.pk, request_id="req-reprocess-1")

    first.refresh_from_db()
    assert (first.status, first.media_id) == ("complete", MEDIA_ID)  # untouched: it keeps serving
    assert (again.status, again.media_id, again.reprocess_of_id) == ("pending", None, first.pk)
    assert (again.user_id, again.data_type, again.target, again.mime_type) == (
        artist.pk, first.data_type, first.target, first.mime_type)
    assert again.image_path != first.image_path and again.request_id == "req-reprocess-1"
    # a copy of the original under a new name, the old file still there
    old_file, new_file = (temp_dir / p.removeprefix("/temp_images/") for p in (first.image_path, again.image_path))
    assert new_file.read_bytes() == old_file.read_bytes()
    # the user's image keeps working: still the old smart URL
    assert user_client.get("/users/me").json()["profile_image_path"] == f"{BASE}/{MEDIA_ID}?size=detail"
    # the media VM sees the new row
    assert [i["id"] for i in media_client().get("/api/media/pending/all").json()["images"]] == [again.pk]

    complete(again, OTHER_MEDIA_ID)  # the profile follows as the completion is accepted

    assert Upload.objects.get(pk=again.pk).status == "complete"
    assert profile_image(artist) == f"{BASE}/{OTHER_MEDIA_ID}?size=detail"
    assert user_client.get("/users/me").json()["profile_image_path"] == f"{BASE}/{OTHER_MEDIA_ID}?size=detail"


def test_a_processed_but_not_yet_replaced_image_is_taken_over_too(artist, temp_dir):
    first = make_pending(artist, "profile_image")
    complete(first, MEDIA_ID)
    leave_processed(first)  # as a crash or an older version left it: the profile holds the temp path
    again = upload_reprocess(image_id=first.pk)
    complete(again, OTHER_MEDIA_ID)

    uploads_processed_complete()

    assert profile_image(artist) == f"{BASE}/{OTHER_MEDIA_ID}?size=detail"
    assert set(Upload.objects.values_list("status", flat=True)) == {"complete"}


def test_a_newer_upload_to_the_field_is_not_overwritten(artist, temp_dir):
    first = make_pending(artist, "profile_image")
    complete(first, MEDIA_ID)
    again = upload_reprocess(image_id=first.pk)
    newer = make_pending(artist, "profile_image")  # the user changed their picture meanwhile

    complete(again, OTHER_MEDIA_ID)

    assert profile_image(artist) == newer.image_path


def test_what_cannot_be_reprocessed(artist, temp_dir):
    pending = make_pending(artist, "profile_image")
    with pytest.raises(ConflictError, match="only processed or complete"):
        upload_reprocess(image_id=pending.pk)
    upload_fail(image_id=pending.pk, reason="x")
    with pytest.raises(ConflictError, match="only processed or complete"):
        upload_reprocess(image_id=pending.pk)

    done = make_pending(artist, "header_image")
    complete(done, MEDIA_ID)
    again = upload_reprocess(image_id=done.pk)
    with pytest.raises(ConflictError, match="already pending"):
        upload_reprocess(image_id=done.pk)
    # once that attempt failed, the original may be tried again
    upload_fail(image_id=again.pk, reason="VM crashed")
    assert upload_reprocess(image_id=done.pk).status == "pending"

    gone = make_pending(artist, "logo_image")
    complete(gone, OTHER_MEDIA_ID)
    for path in files_under(temp_dir):
        if path.name == gone.image_path.rsplit("/", 1)[1]:
            path.unlink()
    before = Upload.objects.count()
    with pytest.raises(ConflictError, match="temp original is gone"):
        upload_reprocess(image_id=gone.pk)
    assert Upload.objects.count() == before


def test_reprocess_command_filters_and_summarises(artist, make_user, temp_dir):
    other = make_user("promoter", username="other")
    mine = [make_pending(artist, "profile_image"), make_pending(artist, "product_image")]
    theirs = make_pending(other, "product_image")
    unfinished = make_pending(artist, "event_image")
    for n, image in enumerate([*mine, theirs]):
        complete(image, f"{n + 1:032x}")

    out, err = StringIO(), StringIO()
    call_command("reprocess", "--user", artist.username, "--progress", stdout=out, stderr=err)

    assert "matched 2 image(s): queued 2 for re-processing, refused 0" in out.getvalue()
    assert "reprocess" in err.getvalue() and "2/2" in err.getvalue()  # the progress bar
    again = Upload.objects.filter(reprocess_of__isnull=False)
    assert sorted(again.values_list("reprocess_of", flat=True)) == sorted(i.pk for i in mine)
    assert Upload.objects.get(pk=unfinished.pk).status == "pending"

    # already re-processed images are not queued twice
    out = StringIO()
    call_command("reprocess", "--user", artist.username, stdout=out)
    assert "matched 0 image(s)" in out.getvalue()

    out = StringIO()
    call_command("reprocess", "--data-type", "product", "--since", "2000-01-01", "--dry-run", stdout=out)
    assert "1 image(s) would be re-processed" in out.getvalue()  # theirs; mine is already queued


def test_reprocess_command_refuses_what_it_cannot_do(artist, temp_dir):
    with pytest.raises(CommandError, match="give --since"):
        call_command("reprocess")
    with pytest.raises(CommandError, match="no user named"):
        call_command("reprocess", "--user", "nobody")
    with pytest.raises(CommandError, match="not a date"):
        call_command("reprocess", "--since", "yesterday")
    future = StringIO()
    call_command("reprocess", "--since", "2999-01-01T00:00:00", "--all", stdout=future)
    assert "matched 0 image(s)" in future.getvalue()


def test_a_reprocessing_is_not_called_a_duplicate_of_the_run_it_redid(artist, temp_dir):
    """The media VM finds the new run's look-alike: the old run, the same image."""
    from main_api.media.upload_object import upload_detail

    first = make_pending(artist, "profile_image")
    complete(first, MEDIA_ID)
    again = upload_reprocess(image_id=first.pk)
    upload_complete(image_id=again.pk, media_id=OTHER_MEDIA_ID, permanent_url="", formats_available=["jpeg"],
                           sizes_available=["detail"], ai_analysis={"duplicate_of": MEDIA_ID})
    again.refresh_from_db()
    assert upload_detail(again, owner=True)["duplicate_of"] is None
    other = make_pending(artist, "product_image")  # a different upload of a look-alike still says so
    upload_complete(image_id=other.pk, media_id="c" * 32, permanent_url="", formats_available=["jpeg"],
                           sizes_available=["detail"], ai_analysis={"duplicate_of": MEDIA_ID})
    other.refresh_from_db()
    assert upload_detail(other, owner=True)["duplicate_of"] == first.pk
