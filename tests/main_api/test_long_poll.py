"""``GET /api/media/pending/all?after=&wait=``: newer rows only, held open while none exist."""

from __future__ import annotations

import threading
import time

import pytest

from main_api.media import selectors
from tests.main_api.support import make_pending, media_client


def test_after_lists_only_newer_rows(artist, temp_dir):
    first = make_pending(artist, "profile_image")
    second = make_pending(artist, "event_image")
    body = media_client().get(f"/api/media/pending/all?after={first.pk}").json()
    assert [img["id"] for img in body["images"]] == [second.pk]
    assert media_client().get(f"/api/media/pending/all?after={second.pk}").json() == {"images": [], "total": 0}
    for bad in ("after=-1", "wait=31", "wait=soon"):
        assert media_client().get(f"/api/media/pending/all?{bad}").status_code == 400


def test_wait_returns_empty_after_the_wait_when_nothing_comes(monkeypatch, db):
    looks = []
    monkeypatch.setattr(selectors.time, "sleep", lambda s: looks.append(s))
    clock = iter(range(0, 1000))
    monkeypatch.setattr(selectors.time, "monotonic", lambda: next(clock) * 0.2)
    assert media_client().get("/api/media/pending/all?wait=2").json() == {"images": [], "total": 0}
    assert 5 <= len(looks) <= 11, "it looked again every LONG_POLL_INTERVAL_SECONDS until the wait ran out"


@pytest.mark.django_db(transaction=True)
def test_wait_answers_as_soon_as_a_row_arrives(artist, temp_dir):
    result = {}

    def poll():
        from django.db import connection

        result["body"] = media_client().get("/api/media/pending/all?wait=20&after=0").json()
        connection.close()

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive(), "the poll is held while nothing is pending"
    row = make_pending(artist, "product_image")
    thread.join(timeout=15)
    assert not thread.is_alive(), "the held poll answered once a row arrived"
    assert [img["id"] for img in result["body"]["images"]] == [row.pk]
