"""Upload events on the main API's side (issue 15): every change of an upload records the upload
object for its owner's stream, duplicates included; tickets are bound to one user and expire;
old events are swept. The stream itself, over real processes and Redis, is
``tests/e2e/test_live_progress.py``."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.core import signing
from django.core.management import call_command
from django.utils import timezone

from main_api.media.live.tickets import event_ticket_issue, event_ticket_user
from main_api.media.models import UploadEvent
from tests.main_api.images import image_bytes
from tests.main_api.support import MEDIA_ID, client_for, complete_payload, media_client, upload


def stages(user) -> list[tuple[int, str, str]]:
    return [(e.upload_id, e.payload["status"], e.payload["stage"])
            for e in UploadEvent.objects.filter(user=user).order_by("pk")]


def test_every_change_is_an_event_with_the_upload_object(artist, temp_dir):
    client = client_for(artist)
    data = image_bytes()
    upload(client, profile_image=("a.jpg", data))
    upload(client, header_image=("b.jpg", data))  # a duplicate: it shows the first one's state
    first, second = (e.upload_id for e in UploadEvent.objects.order_by("pk"))
    for stage, media_id in (("retrieved", None), ("thumbnail_ready", MEDIA_ID)):
        body = {"stage": stage} | ({"media_id": media_id} if media_id else {})
        media_client().post(f"/api/media/progress/{first}", body, format="json")
    media_client().post(f"/api/media/progress/{first}", {"stage": "retrieved"}, format="json")  # late: no event
    media_client().post(f"/api/media/complete/{first}", complete_payload(), format="json")

    assert stages(artist) == [
        (first, "pending", "queued"), (second, "pending", "queued"),
        (first, "pending", "retrieved"), (second, "pending", "retrieved"),
        (first, "pending", "thumbnail_ready"), (second, "pending", "thumbnail_ready"),
        (first, "processed", "processed"), (second, "processed", "processed"),
        # the references follow in the completion's transaction: then the upload is complete
        (first, "complete", "processed"), (second, "complete", "processed"),
    ]
    last = UploadEvent.objects.filter(upload_id=second).latest("pk").payload
    assert last == client.get(f"/api/uploads/{second}").json(), "the event carries the upload object itself"
    assert not UploadEvent.objects.exclude(user=artist).exists()


def test_failure_and_retry_are_events(artist, temp_dir):
    client = client_for(artist)
    upload(client, profile_image=("a.jpg", image_bytes()))
    [event] = UploadEvent.objects.all()
    media_client().delete(f"/api/media/cleanup/{event.upload_id}")
    client.post(f"/api/uploads/{event.upload_id}/retry")
    assert [s[1:] for s in stages(artist)] == [("pending", "queued"), ("failed", "failed"), ("pending", "queued")]
    assert UploadEvent.objects.latest("pk").payload["attempts"] == 2


def test_tickets_are_bound_to_their_user_and_expire(artist, make_user, monkeypatch, settings):
    issued = event_ticket_issue(user_id=artist.pk)
    assert event_ticket_user(issued.ticket) == artist.pk
    assert event_ticket_user(issued.ticket.replace(str(artist.pk), str(artist.pk + 1), 1)) is None
    assert event_ticket_user("junk") is None
    assert abs((issued.expires_at - timezone.now()).total_seconds() - 600) < 5
    later = signing.time.time() + 601
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert event_ticket_user(issued.ticket) is None, "expired after UPLOAD_EVENT_TICKET_SECONDS"
    r = client_for(artist).post("/api/uploads/events/ticket")
    assert r.status_code == 200 and set(r.json()) == {"ticket", "expires_at"}


def test_old_events_are_swept_by_the_scheduler(artist, temp_dir):
    upload(client_for(artist), profile_image=("a.jpg", image_bytes()))
    old = UploadEvent.objects.get()
    UploadEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=49))
    upload(client_for(artist), header_image=("b.jpg", image_bytes()))
    out = StringIO()
    call_command("run_scheduler", "--once", stdout=out)
    assert "deleted 1 expired upload event(s)" in out.getvalue()
    assert list(UploadEvent.objects.values_list("upload_id", flat=True)) != [old.upload_id]
    assert UploadEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_poller_hands_on_an_event_committed_after_a_newer_one_once(artist, make_user):
    """Ids are given at insert, not at commit: an event with a lower id can appear after the
    poller has moved past it. The look-back hands it on anyway, and nothing twice."""
    from main_api.media.live.event_stream import EventHub

    other = make_user("artist")

    async def scenario() -> list[tuple[int, int]]:
        hub = EventHub()
        queue = await hub.subscribe(artist.pk)
        await hub.subscribe(other.pk)
        got = []
        await sync_to_async(UploadEvent.objects.create)(id=10, user_id=artist.pk, upload_id=1, payload={"n": 10})
        assert await hub.poll_once() == 1
        # committed late, with a lower id than one already handed on
        await sync_to_async(UploadEvent.objects.create)(id=5, user_id=artist.pk, upload_id=1, payload={"n": 5})
        await sync_to_async(UploadEvent.objects.create)(id=11, user_id=other.pk, upload_id=2, payload={"n": 11})
        assert await hub.poll_once() == 2
        assert await hub.poll_once() == 0, "nothing twice"
        while not queue.empty():
            row = queue.get_nowait()
            got.append((row.pk, row.payload["n"]))
        return got

    assert asyncio.run(scenario()) == [(10, 10), (5, 5)], "the user's queue only, each once"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_stream_answers_other_methods_with_a_json_405(method, artist, client):
    """Not Django's HTML CSRF page: a JSON 405 naming what is allowed."""
    response = getattr(client, method)("/api/uploads/events", HTTP_AUTHORIZATION=f"Token {artist.pk}")
    assert response.status_code == 405
    assert response.json()["extra"]["allowed"] == ["GET", "HEAD", "OPTIONS"] and response["Allow"]


@pytest.mark.django_db(transaction=True)
def test_the_streams_of_an_erased_or_deactivated_account_are_ended(artist, make_user):
    from main_api.media.live.event_stream import EventHub

    other, kept = make_user("artist"), make_user("artist")

    async def scenario() -> tuple[int, list[object], list[object]]:
        hub = EventHub()
        gone, off, alive = await hub.subscribe(artist.pk), await hub.subscribe(other.pk), await hub.subscribe(kept.pk)
        await sync_to_async(type(artist).objects.filter(pk=artist.pk).delete)()
        await sync_to_async(type(other).objects.filter(pk=other.pk).update)(is_active=False)
        ended = await hub.end_streams_of_gone_users()
        return ended, [gone.get_nowait(), off.get_nowait()], [alive.qsize()]

    ended, ends, untouched = asyncio.run(scenario())
    assert ended == 2 and ends == [None, None], "each ended stream gets the end of stream"
    assert untouched == [0]
