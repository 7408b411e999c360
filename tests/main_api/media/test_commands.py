"""Management commands for ops: sweep_stuck, and replace_temp_urls' progress and summary."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from main_api.media.models import Upload
from main_api.media.services.lifecycle import upload_complete
from tests.helpers.files import files_under
from tests.main_api.support import MEDIA_ID, leave_processed, make_pending


def age(image, minutes: int) -> None:
    moment = timezone.now() - timedelta(minutes=minutes)
    Upload.objects.filter(pk=image.pk).update(created_at=moment, updated_at=moment)


@pytest.fixture
def stuck_rows(artist, temp_dir):
    fresh = make_pending(artist, "profile_image")
    age(fresh, 5)
    stuck = make_pending(artist, "header_image")
    age(stuck, 90)
    very = make_pending(artist, "product_image")
    age(very, 600)
    orphan = make_pending(artist, "event_image")  # stuck and its temp file lost
    age(orphan, 120)
    for path in files_under(temp_dir):
        if path.name == orphan.image_path.rsplit("/", 1)[1]:
            path.unlink()
    return fresh, stuck, very, orphan


def status(image) -> tuple[str, str]:
    image.refresh_from_db()
    return image.status, image.failure_reason


def test_sweep_requeues_what_is_stuck(stuck_rows):
    fresh, stuck, very, orphan = stuck_rows
    out, err = StringIO(), StringIO()

    call_command("sweep_stuck", "--progress", stdout=out, stderr=err)

    assert "stuck over 60 minute(s): 3; re-queued 2, failed 1, skipped 0" in out.getvalue()
    assert "sweep_stuck" in err.getvalue() and "3/3" in err.getvalue()
    assert status(fresh) == ("pending", "")
    assert status(stuck) == ("pending", "") and status(very) == ("pending", "")
    assert status(orphan) == ("failed", "stuck, and the temp original is gone")
    # the clock restarted: not stuck any more, still in the media VM's queue
    assert stuck.updated_at > timezone.now() - timedelta(minutes=1)
    again = StringIO()
    call_command("sweep_stuck", stdout=again)
    assert "stuck over 60 minute(s): 0" in again.getvalue()


def test_sweep_with_fail_and_older_than(stuck_rows, temp_dir):
    fresh, stuck, very, orphan = stuck_rows
    out = StringIO()

    call_command("sweep_stuck", "--fail", "--older-than", "300", stdout=out)

    assert "stuck over 300 minute(s): 1; re-queued 0, failed 1" in out.getvalue()
    assert status(very) == ("failed", "stuck: pending for over 300 minute(s)")
    assert status(stuck)[0] == status(fresh)[0] == status(orphan)[0] == "pending"
    assert very.image_path.rsplit("/", 1)[1] in {p.name for p in files_under(temp_dir)}, "kept for a retry"


def test_sweep_dry_run_and_bad_arguments(stuck_rows):
    fresh, stuck, very, orphan = stuck_rows
    out = StringIO()
    call_command("sweep_stuck", "--dry-run", stdout=out)
    assert out.getvalue().splitlines() == [f"#{very.pk}", f"#{orphan.pk}", f"#{stuck.pk}",
                                           "3 image(s) pending for over 60 minute(s)"]
    assert status(orphan)[0] == "pending"
    with pytest.raises(CommandError, match="at least 1 minute"):
        call_command("sweep_stuck", "--older-than", "0")


def test_replace_temp_urls_shows_progress_and_a_summary(artist, temp_dir):
    images = [make_pending(artist, field) for field in ("profile_image", "header_image", "site_image")]
    for n, image in enumerate(images):
        upload_complete(image_id=image.pk, media_id=MEDIA_ID[:-1] + str(n), permanent_url="",
                               formats_available=[], sizes_available=[], ai_analysis={})
        leave_processed(image)  # as a crash or an older version left it: for the sweeper
    out, err = StringIO(), StringIO()

    call_command("replace_temp_urls", "--progress", stdout=out, stderr=err)

    assert out.getvalue().strip() == "completed 3 image(s), rewrote 3 reference(s), skipped 0 held by another run"
    assert "replace_temp_urls" in err.getvalue() and "3/3" in err.getvalue()
    # not a terminal and not asked for: no bar
    quiet = StringIO()
    call_command("replace_temp_urls", stdout=StringIO(), stderr=quiet)
    assert quiet.getvalue() == ""
