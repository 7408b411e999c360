"""Upload events on the main API's side (issue 15): every change of an upload records the upload
object for its owner's stream, duplicates included; tickets are bound to one user and expire;
old events are swept. The stream itself, over real processes and Redis, is
``tests/system/e2e/test_live_progress.py``."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.core import signing
from django.core.management import call_command
from django.utils import timezone

from main_api.media.live.tickets import event_ticket_issue, event_ticket_user
from main_api.media.models import UploadEvent
from tests.helpers.images import image_bytes
from tests.main_api.support import MEDIA_ID, client_for, complete_payload, leave_processed, media_client, upload


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
    from main_api.media.live.hub import EventHub

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
    from main_api.media.live.hub import EventHub

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


#: A processed photo's analysis as the media VM reports it: its size, placeholder and EXIF.
RICH_ANALYSIS = {
    "width": 4000, "height": 3000, "dominant_colors": ["#c81e5a", "#1e59c7"], "quality_score": 0.82,
    "mood_keywords": ["warm"],
    "placeholder": {"thumbhash": "3OcRJYB4d3h/iIeHeEh3eIhw+j3A", "dominant_color": "#c81e5a"},
    "exif": {"camera_make": "Canon", "camera_model": "Canon EOS R5", "lens": "RF24-105mm F4 L IS USM",
             "taken_at": "2024-05-01T14:30:15+02:00", "exposure_time": 0.008, "f_number": 2.8, "iso": 400,
             "focal_length_mm": 50.0, "gps": None},
}
#: Every file the media VM made: four sizes in three formats, the original background.
RICH_VARIANTS = [
    {"size": size, "format": fmt, "bg": "original", "width": width, "height": width * 3 // 4, "bytes": width * 40}
    for size, width in (("thumbnail", 300), ("grid", 600), ("small", 800), ("detail", 1600))
    for fmt in ("avif", "webp", "jpeg")
]


def through_every_stage(user, name: str = "photo.jpg", media_id: str = MEDIA_ID,
                        data: bytes | None = None) -> tuple[int, list[bytes]]:
    """Upload a photo for ``user`` and take it through every stage (uploaded, retrieved,
    thumbnail_ready, analysed, variants_ready, processed with EXIF, analysis, variants and a
    placeholder, complete); the upload's id and the body of ``GET /api/uploads/{id}`` in each.

    The completion records ``processed`` and ``complete`` in one transaction, so no GET sees the
    processed state in between: it is shown by putting the row back to ``processed`` for one GET
    (``support.leave_processed``), then to ``complete`` again, with no event for either."""
    from main_api.media.models import Upload

    client = client_for(user)
    upload(client, profile_image=(name, data or image_bytes()))
    upload_id = UploadEvent.objects.filter(user=user).latest("pk").upload_id
    bodies = [client.get(f"/api/uploads/{upload_id}").content]
    for stage in ("retrieved", "thumbnail_ready", "analysed", "variants_ready"):
        body = {"stage": stage} | ({"media_id": media_id} if stage != "retrieved" else {})
        assert media_client().post(f"/api/media/progress/{upload_id}", body, format="json").status_code == 200
        bodies.append(client.get(f"/api/uploads/{upload_id}").content)
    done = complete_payload(media_id, ai_analysis=RICH_ANALYSIS, variants=RICH_VARIANTS,
                            formats_available=["avif", "webp", "jpeg"])
    assert media_client().post(f"/api/media/complete/{upload_id}", done, format="json").status_code == 200
    complete = client.get(f"/api/uploads/{upload_id}").content
    events = UploadEvent.objects.count()
    leave_processed(Upload.objects.get(pk=upload_id))
    bodies.append(client.get(f"/api/uploads/{upload_id}").content)
    Upload.objects.filter(pk=upload_id).update(status=Upload.Status.COMPLETE)
    assert client.get(f"/api/uploads/{upload_id}").content == complete and UploadEvent.objects.count() == events
    bodies.append(complete)
    return upload_id, bodies


def sse_messages(text: str) -> list[dict[str, str]]:
    """The messages of an SSE stream's text (comments and ``retry:`` left out): ``{field: value}``."""
    messages = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if line and not line.startswith(":")
                      and ": " in line)
        if "id" in fields:
            messages.append(fields)
    return messages


@pytest.mark.django_db(transaction=True)
def test_the_stream_sends_the_body_of_get_byte_for_byte_for_every_state(artist):
    """One renderer for the upload object: each event's ``data`` is the body ``GET
    /api/uploads/{id}`` answered in that state (an upload with EXIF, analysis, variants and a
    placeholder, a name outside ASCII), as the stream replays them after ``Last-Event-ID``."""
    from django.test import AsyncClient

    from main_api.users.services import user_token_get

    upload_id, bodies = through_every_stage(artist, name="Été à Zürich – 夜景.jpg")
    assert len(bodies) == 7 and all(b"\n" not in body for body in bodies)
    last = json.loads(bodies[-1])
    assert last["exif"]["camera_make"] == "Canon" and last["placeholder"] and last["analysis"]["quality_score"]
    assert [v["size"] for v in last["variants"]] == ["thumbnail", "grid", "small", "detail"]
    token = user_token_get(user=artist)

    async def replay() -> str:
        response = await AsyncClient().get("/api/uploads/events",
                                           headers={"Authorization": f"Token {token}", "Last-Event-ID": "0"})
        assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
        stream, text = aiter(response.streaming_content), ""
        while len(sse_messages(text)) < len(bodies):
            text += (await asyncio.wait_for(anext(stream), timeout=10)).decode()
        await stream.aclose()
        return text

    messages = sse_messages(asyncio.run(replay()))
    assert [m["event"] for m in messages] == ["upload"] * 7
    assert [int(m["id"]) for m in messages] == list(
        UploadEvent.objects.filter(upload_id=upload_id).order_by("pk").values_list("pk", flat=True))
    for state, (message, body) in enumerate(zip(messages, bodies, strict=True)):
        assert message["data"].encode() == body, f"state {state}: the event is not the GET body"


def test_an_event_row_stores_the_bytes_the_stream_sends(artist, temp_dir):
    """Compact UTF-8, not ``JSONField``'s spaced, ``\\u``-escaped writing of the same value
    (MySQL's own JSON type keeps a binary form instead; SQLite and MariaDB keep the text)."""
    from django.db import connection

    from main_api.media.live.event_stream import format_event

    if connection.vendor == "mysql" and not connection.mysql_is_mariadb:
        pytest.skip("MySQL's JSON type stores a binary form of its own")
    upload_id, bodies = through_every_stage(artist, name="Été à Zürich – 夜景.jpg")
    rows = list(UploadEvent.objects.filter(upload_id=upload_id).order_by("pk"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM upload_events WHERE upload_id = %s ORDER BY id", [upload_id])
        stored = [text.encode() for (text,) in cursor.fetchall()]
    assert stored == bodies
    assert [format_event(row) for row in rows] == [
        f"id: {row.pk}\nevent: upload\ndata: {body.decode()}\n\n" for row, body in zip(rows, bodies, strict=True)]
    assert rows[-1].payload == json.loads(bodies[-1]), "read back, the field parses it as usual"


async def replay_from_zero(token: str, *, until_id: int, by: str) -> list[dict[str, str]]:
    """The events a stream replays after ``Last-Event-ID: 0`` (``by="header"``) or
    ``?last_event_id=0`` (``by="query"``), read until the event ``until_id`` (the newest) comes."""
    from django.test import AsyncClient

    headers = {"Authorization": f"Token {token}"}
    path = "/api/uploads/events"
    if by == "header":
        headers["Last-Event-ID"] = "0"
    else:
        path += "?last_event_id=0"
    response = await AsyncClient().get(path, headers=headers)
    assert response.status_code == 200, response
    stream, text = aiter(response.streaming_content), ""
    while not any(int(m["id"]) == until_id for m in sse_messages(text)):
        text += (await asyncio.wait_for(anext(stream), timeout=10)).decode()
    await stream.aclose()
    return sse_messages(text)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["DELETE /api/uploads/{id}", "the admin's delete everywhere"])
def test_a_deleted_uploads_events_are_never_replayed(artist, path):
    """Issue 25, 4: the events of a deleted upload (its upload object: analysis, EXIF) and of its
    duplicates go with it, whichever path deletes it; a replay from 0 carries none of them, and
    the events of the owner's other uploads stay."""
    from django.test import Client

    from main_api.users.models import User
    from main_api.users.services import user_token_get

    client = client_for(artist)
    data = image_bytes()
    upload_id, _ = through_every_stage(artist, data=data)
    upload(client, header_image=("again.jpg", data))  # a duplicate of it: its events go too
    duplicate_id = UploadEvent.objects.filter(user=artist).latest("pk").upload_id
    upload(client, product_image=("kept.png", image_bytes("PNG", color=(10, 200, 30))))
    kept = UploadEvent.objects.filter(user=artist).latest("pk")
    gone = {upload_id, duplicate_id}
    from main_api.media.models import Upload

    assert Upload.objects.get(pk=duplicate_id).duplicate_of_id == upload_id and kept.upload_id not in gone
    assert UploadEvent.objects.filter(upload_id=upload_id, payload__analysis__quality_score__isnull=False).exists()

    if path.startswith("DELETE"):
        assert client.delete(f"/api/uploads/{upload_id}").status_code == 204
    else:
        staff = Client()
        staff.force_login(User.objects.create_superuser("root", "root@example.test", "pw-for-tests-only"))
        staff.post("/admin/media/upload/", {"action": "delete_everywhere", "_selected_action": [str(upload_id)]})
    assert not Upload.objects.filter(pk__in=gone).exists()

    assert not UploadEvent.objects.filter(upload_id__in=gone).exists()
    token = user_token_get(user=artist)
    for by in ("header", "query"):
        messages = asyncio.run(replay_from_zero(token, until_id=kept.pk, by=by))
        replayed = {json.loads(m["data"])["id"] for m in messages}
        assert replayed == {kept.upload_id}, f"{by}: a deleted upload's events were replayed"


@pytest.mark.django_db(transaction=True)
def test_a_fresh_stream_starts_at_its_connection_and_still_gets_a_late_commit(artist, settings):
    """Issue 26, 6: a stream without ``Last-Event-ID`` gets only the events recorded after it
    connected, not those of the poller's look-back before it (which is there for commits out of
    id order); a commit with an id below one it has sent, but recorded after the connection,
    still arrives."""
    from django.test import AsyncClient

    from main_api.users.services import user_token_get

    settings.UPLOAD_EVENTS_POLL_SECONDS = 0.1
    token = user_token_get(user=artist)
    upload(client_for(artist), product_image=("before.png", image_bytes("PNG")))  # an event before, too
    real = UploadEvent.objects.get(user=artist)
    # ids above the real event's: on MariaDB the auto-increment is not reset between tests
    base = real.id + 100

    def record(event_id: int) -> None:  # an id of our choosing: commits out of id order
        UploadEvent.objects.create(id=event_id, user_id=artist.pk, upload_id=real.upload_id, payload=real.payload)

    create = sync_to_async(record)

    async def scenario() -> list[int]:
        await create(base)
        await asyncio.sleep(1.5)  # well inside the poller's look-back (5 s)
        response = await AsyncClient().get("/api/uploads/events", headers={"Authorization": f"Token {token}"})
        assert response.status_code == 200, response
        stream, text = aiter(response.streaming_content), ""
        text += (await asyncio.wait_for(anext(stream), timeout=10)).decode()  # connected
        await create(base + 2)

        async def until(event_id: int) -> None:
            nonlocal text
            while not any(int(m["id"]) == event_id for m in sse_messages(text)):
                text += (await asyncio.wait_for(anext(stream), timeout=10)).decode()

        await until(base + 2)
        # committed late, with an id below the one just sent: the look-back still hands it on
        await create(base + 1)
        await until(base + 1)
        await asyncio.sleep(0.5)  # a few more polls, each looking back over event base
        await create(base + 3)
        await until(base + 3)
        await stream.aclose()
        return [int(m["id"]) for m in sse_messages(text)]

    assert asyncio.run(scenario()) == [base + 2, base + 1, base + 3], "nothing from before the connection"
