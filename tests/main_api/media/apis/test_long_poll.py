"""``GET /api/media/pending/all?after=&wait=``: newer rows only, held open while none exist."""

from __future__ import annotations

import threading
import time

import pytest

from main_api.media.selectors import media_vm as vm_selectors
from tests.main_api.support import client_for, make_pending, media_client


def test_after_lists_only_newer_rows(artist, temp_dir):
    first = make_pending(artist, "profile_image")
    second = make_pending(artist, "event_image")
    body = media_client().get(f"/api/media/pending/all?after={first.pk}").json()
    assert [img["id"] for img in body["images"]] == [second.pk]
    body = media_client().get(f"/api/media/pending/all?after={second.pk}").json()
    assert (body["images"], body["total"]) == ([], 0) and body["now"]
    for bad in ("after=-1", "wait=31", "wait=soon"):
        assert media_client().get(f"/api/media/pending/all?{bad}").status_code == 400


def test_wait_returns_empty_after_the_wait_when_nothing_comes(monkeypatch, db):
    looks = []
    monkeypatch.setattr(vm_selectors._stop_waiting, "wait", lambda s: looks.append(s))  # the wait between looks
    clock = iter(range(0, 1000))
    monkeypatch.setattr(vm_selectors.time, "monotonic", lambda: next(clock) * 0.2)
    body = media_client().get("/api/media/pending/all?wait=2").json()
    assert (body["images"], body["total"]) == ([], 0) and body["now"]
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


def test_since_lists_a_retried_row_below_the_id_cursor_once(artist, temp_dir):
    """A retry puts an old row back in the queue: ``since`` (the previous answer's ``now``) lists
    it to a poll past its id; the next ``since`` does not list it again."""
    failed = make_pending(artist, "profile_image")
    newer = make_pending(artist, "header_image")
    media_client().delete(f"/api/media/cleanup/{failed.pk}")
    first = media_client().get(f"/api/media/pending/all?after={newer.pk}").json()
    assert first["images"] == [] and first["now"]
    client_for(artist).post(f"/api/uploads/{failed.pk}/retry")
    assert media_client().get(f"/api/media/pending/all?after={newer.pk}").json()["images"] == [], "id alone"
    again = media_client().get("/api/media/pending/all", {"after": newer.pk, "since": first["now"]}).json()
    assert [row["id"] for row in again["images"]] == [failed.pk]
    later = media_client().get("/api/media/pending/all", {"after": newer.pk, "since": again["now"]}).json()
    assert later["images"] == []
    assert media_client().get("/api/media/pending/all", {"after": 0, "since": "yesterday"}).status_code == 400
