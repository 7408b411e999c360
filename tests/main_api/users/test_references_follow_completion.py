"""References follow completion: the media VM's completion rewrites every reference to the
upload's temp path to its smart URL and completes the row in one transaction. The URL
replacement (``replace_temp_urls``, ``run_scheduler``) stays as the sweeper of rows a crash or an
older version left ``processed`` (``support.leave_processed`` makes such rows)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from main_api.media.models import Upload
from main_api.media.services.lifecycle import upload_complete
from main_api.media.services.sweeps import uploads_processed_complete
from main_api.users import services
from main_api.users.models import ArtistProfile, PromoterProfile, SiteMedia, UserProfile
from shared.naming import new_media_id
from tests.main_api.support import leave_processed, make_pending

SMART = "https://cdn.example.test/api/images"
ROOT = Path(__file__).resolve().parents[3]


def complete(image: Upload, *, left_processed: bool = True) -> str:
    """The media VM's completion of ``image``; then, unless ``left_processed`` is False, the row put
    back as a crash or an older version leaves it, for the sweeper. The image's smart URL."""
    media_id = new_media_id()
    upload_complete(
        image_id=image.pk,
        media_id=media_id,
        permanent_url="",
        formats_available=["jpeg"],
        sizes_available=["detail"],
        ai_analysis={},
    )
    if left_processed:
        leave_processed(image)
    return f"{SMART}/{media_id}?size=detail"


def test_a_reference_rewrite_that_fails_rolls_the_completion_back(artist, temp_dir, monkeypatch):
    """The references and the row move together: the media VM's call fails (it retries it)."""
    image = make_pending(artist, "profile_image")

    def broken(**kwargs):
        raise RuntimeError("the profile table is gone")

    monkeypatch.setattr(services, "references_rewrite", broken)
    with pytest.raises(RuntimeError):
        complete(image, left_processed=False)
    image.refresh_from_db()
    assert (image.status, image.media_id) == ("pending", None)
    assert UserProfile.objects.get(user=artist).profile_image_path == image.image_path


@pytest.mark.parametrize("path", ["completion", "sweeper"])
def test_every_kind_of_reference_is_rewritten(path, artist, make_user, temp_dir):
    """At the completion itself; or, for rows a crash or an older version left processed, by the
    sweeper (``replace_temp_urls``)."""
    promoter = make_user("promoter")
    profile = make_pending(artist, "profile_image")
    header = make_pending(artist, "header_image")
    logo = make_pending(artist, "logo_image")
    site = make_pending(artist, "site_image")
    promoter_logo = make_pending(promoter, "logo_image")
    product = make_pending(artist, "product_image")
    still_pending = make_pending(promoter, "header_image")
    urls = {img.pk: complete(img, left_processed=path == "sweeper")
            for img in (profile, header, logo, site, promoter_logo, product)}

    result = uploads_processed_complete()

    assert (result.completed, result.references, result.skipped) == ((6, 5, 0) if path == "sweeper" else (0, 0, 0))
    user_profile = UserProfile.objects.get(user=artist)
    assert user_profile.profile_image_path == urls[profile.pk]
    assert user_profile.header_image_path == urls[header.pk]
    assert ArtistProfile.objects.get(user=artist).logo_path == urls[logo.pk]
    assert SiteMedia.objects.get(user=artist).media_path == urls[site.pk]
    assert PromoterProfile.objects.get(user=promoter).logo_path == urls[promoter_logo.pk]
    assert UserProfile.objects.get(user=promoter).header_image_path == still_pending.image_path
    statuses = dict(Upload.objects.values_list("pk", "status"))
    assert {pk: statuses[pk] for pk in urls} == dict.fromkeys(urls, "complete")
    assert statuses[still_pending.pk] == "pending"

    again = uploads_processed_complete()
    assert (again.completed, again.references) == (0, 0)


def test_a_later_upload_to_the_same_field_is_not_overwritten(artist, temp_dir):
    old = make_pending(artist, "profile_image")
    complete(old)
    new = make_pending(artist, "profile_image")  # the user replaced the picture meanwhile
    assert uploads_processed_complete().references == 0
    assert UserProfile.objects.get(user=artist).profile_image_path == new.image_path
    assert Upload.objects.get(pk=old.pk).status == "complete"


def test_the_command_prints_a_summary(artist, temp_dir):
    complete(make_pending(artist, "profile_image"))
    out = StringIO()
    call_command("replace_temp_urls", stdout=out)
    assert out.getvalue().strip() == "completed 1 image(s), rewrote 1 reference(s), skipped 0 held by another run"


def test_the_scheduler_runs_the_job_once(artist, temp_dir):
    url = complete(make_pending(artist, "header_image"))
    out = StringIO()
    call_command("run_scheduler", "--once", stdout=out)
    assert "completed 1 image(s)" in out.getvalue()
    assert UserProfile.objects.get(user=artist).header_image_path == url


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_complete_each_row_exactly_once(make_user, temp_dir, monkeypatch):
    users = [make_user("artist") for _ in range(4)]
    images = [make_pending(user, field) for user in users for field in ("profile_image", "logo_image", "site_image")]
    urls = {img.pk: complete(img) for img in images}

    # Slow each row down a little so that the two runs really overlap.
    real_rewrite = services.references_rewrite

    def slow_rewrite(**kwargs):
        time.sleep(0.02)
        return real_rewrite(**kwargs)

    monkeypatch.setattr(services, "references_rewrite", slow_rewrite)
    start = threading.Barrier(2)
    results, errors = [], []

    def run() -> None:
        try:
            start.wait()
            results.append(uploads_processed_complete())
        except Exception as e:  # surfaced by the assertion below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert sum(r.completed for r in results) == len(images)
    assert sum(r.references for r in results) == len(images)
    assert set(Upload.objects.values_list("status", flat=True)) == {"complete"}
    for user in users:
        assert UserProfile.objects.get(user=user).profile_image_path in urls.values()
        assert ArtistProfile.objects.get(user=user).logo_path in urls.values()
        assert SiteMedia.objects.get(user=user).media_path in urls.values()


def test_the_scheduler_stops_cleanly_on_sigterm(tmp_path):
    env = {
        **os.environ,
        "DJANGO_ENV": "dev",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'scheduler.sqlite3'}",
        "REPLACE_URLS_INTERVAL_SECONDS": "3600",
    }
    env.pop("DJANGO_DEBUG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "main_api", "run_scheduler"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        while first and "scheduler started" not in first:
            first = proc.stdout.readline()
        assert "replace_temp_urls every 3600s" in first
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "scheduler stopped" in output
