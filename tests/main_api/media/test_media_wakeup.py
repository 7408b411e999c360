"""Wake-ups for the media VM on Redis (issue 18): pushed once the row's transaction commits,
never for a rolled-back one, bounded, and a Redis that is down costs the upload nothing but a
warning and a count in ``/metrics``, and is left alone for a while after a failure. Real Redis
(the machine's, a list of the test's own); committed transactions (``transactional_db``),
since ``on_commit`` is the point."""

from __future__ import annotations

import logging
import uuid

import pytest
from django.db import transaction
from prometheus_client.parser import text_string_to_metric_families

from main_api.media import wakeup
from main_api.media.live import records
from main_api.media.models import Upload
from main_api.media.services.lifecycle import upload_complete, upload_fail
from main_api.media.services.reprocessing import upload_reprocess
from tests.helpers.images import image_bytes
from tests.helpers.processes import free_port
from tests.helpers.redis_servers import require_shared_redis
from tests.main_api.support import MEDIA_ID, client_for, make_pending, media_client, upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def wakeups(settings, monkeypatch):
    """``REDIS_URL`` on the machine's Redis and a wake-up list of this test's own; yields a
    client of that Redis and the list's name, and deletes the list afterwards."""
    import redis

    monkeypatch.setattr(wakeup, "_down_until", {})
    url = require_shared_redis()
    settings.REDIS_URL = url
    settings.MEDIA_WAKEUP_LIST = f"test:{uuid.uuid4().hex}:media:wakeup"
    monkeypatch.setattr(records, "_redis_client", None)  # the events' client follows this test's REDIS_URL
    client = redis.Redis.from_url(url)
    yield client, settings.MEDIA_WAKEUP_LIST
    client.delete(settings.MEDIA_WAKEUP_LIST)
    client.close()


def counted_wakeups(outcome: str) -> float:
    """``main_api_media_wakeups_total{outcome=...}`` as ``/metrics`` shows it."""
    r = media_client().get("/metrics")
    assert r.status_code == 200
    for family in text_string_to_metric_families(r.content.decode()):
        for s in family.samples:
            if s.name == "main_api_media_wakeups_total" and s.labels.get("outcome") == outcome:
                return s.value
    return 0.0


def test_an_upload_pushes_one_wakeup_after_its_commit(artist, temp_dir, wakeups):
    redis, key = wakeups
    r = upload(client_for(artist), profile_image=("a.jpg", image_bytes()), product_image=("b.png", image_bytes("PNG")))
    assert r.status_code == 200, r.content
    ids = sorted(Upload.objects.values_list("pk", flat=True))
    assert sorted(int(v) for v in redis.lrange(key, 0, -1)) == ids, "one wake-up per queued row: each wakes one worker"


def test_a_rolled_back_upload_pushes_nothing(artist, temp_dir, wakeups):
    redis, key = wakeups
    with pytest.raises(RuntimeError), transaction.atomic():
        make_pending(artist)
        assert redis.llen(key) == 0, "not before the commit"
        raise RuntimeError("the request failed after the row was written")
    assert not Upload.objects.exists()
    assert redis.llen(key) == 0


def test_a_retry_and_a_reprocessing_push_a_wakeup(artist, temp_dir, wakeups):
    redis, key = wakeups
    image = make_pending(artist)
    upload_fail(image_id=image.pk, reason="the VM gave up")
    redis.delete(key)
    assert client_for(artist).post(f"/api/uploads/{image.pk}/retry").status_code == 200
    assert redis.lrange(key, 0, -1) == [str(image.pk).encode()]
    upload_complete(image_id=image.pk, media_id=MEDIA_ID, permanent_url="", formats_available=["jpeg"],
                           sizes_available=["detail"], ai_analysis={"quality_score": 0.5})
    again = upload_reprocess(image_id=image.pk)
    assert redis.lrange(key, 0, -1) == [str(again.pk).encode(), str(image.pk).encode()]


def test_the_list_is_bounded(wakeups):
    redis, key = wakeups
    for n in range(wakeup.MAX_WAKEUPS + 50):
        assert wakeup.media_wakeup_push(image_id=n + 1)
    assert redis.llen(key) == wakeup.MAX_WAKEUPS
    assert int(redis.lindex(key, 0)) == wakeup.MAX_WAKEUPS + 50, "the newest are kept"


def test_without_redis_url_nothing_is_pushed(artist, temp_dir, wakeups, settings):
    redis, key = wakeups
    settings.REDIS_URL = ""
    assert upload(client_for(artist), profile_image=("a.jpg", image_bytes())).status_code == 200
    assert redis.llen(key) == 0


def test_redis_down_the_upload_goes_through_with_a_warning_and_a_count(artist, temp_dir, settings, monkeypatch,
                                                                        caplog):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    monkeypatch.setattr(records, "_redis_client", None)
    monkeypatch.setattr(wakeup, "_down_until", {})
    failed, skipped = counted_wakeups("failed"), counted_wakeups("skipped")
    with caplog.at_level(logging.WARNING, logger="main_api.media.wakeup"):
        r = upload(client_for(artist), profile_image=("a.jpg", image_bytes()),
                   product_image=("b.png", image_bytes("PNG")))
    assert r.status_code == 200, r.content
    assert set(Upload.objects.values_list("status", flat=True)) == {Upload.Status.PENDING}
    # the first row's push failed; the second's was not tried (Redis is left alone a while)
    assert (counted_wakeups("failed"), counted_wakeups("skipped")) == (failed + 1, skipped + 1)
    [warning] = [rec for rec in caplog.records if rec.name == "main_api.media.wakeup"]  # one, not one per row
    assert warning.levelno == logging.WARNING and "not pushed to Redis" in warning.getMessage()


def test_after_the_pause_redis_is_tried_again(artist, temp_dir, wakeups, monkeypatch):
    redis, key = wakeups
    monkeypatch.setitem(wakeup._down_until, wakeup.settings.REDIS_URL, 0.0)  # a failure whose pause has passed
    skipped = counted_wakeups("skipped")
    assert wakeup.media_wakeup_push(image_id=7) is True
    assert redis.lrange(key, 0, -1) == [b"7"] and counted_wakeups("skipped") == skipped
    monkeypatch.setitem(wakeup._down_until, wakeup.settings.REDIS_URL, float("inf"))  # within a pause
    assert wakeup.media_wakeup_push(image_id=8) is False
    assert redis.lrange(key, 0, -1) == [b"7"] and counted_wakeups("skipped") == skipped + 1
