"""Live progress end to end (issue 15): the real main API (ASGI, two processes), the media VM
server and a worker, and Redis. The owner's event stream shows ``thumbnail_ready`` before the
upload is processed, the thumbnail is servable right then, a reconnect with ``Last-Event-ID``
replays what was missed, and another user's stream never carries it. Without Redis (a private
``redis-server`` the test stops) the events still come, by each process's poller."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import requests

from tests.helpers import images
from tests.helpers.redis_servers import private_redis, require_shared_redis
from tests.helpers.sse import EventStream
from tests.helpers.system import running_system


def ticket(system, token: str) -> str:
    r = requests.post(f"{system.api_url}/api/uploads/events/ticket", headers={"Authorization": f"Token {token}"},
                      timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["ticket"]


def stages(stream: EventStream, upload_id: int) -> list[str]:
    return [m.data["stage"] for m in stream.events() if m.data["id"] == upload_id]


def test_the_stream_shows_the_thumbnail_first_replays_and_keeps_users_apart(tmp_path: Path):
    redis_url = require_shared_redis()
    env = {"REDIS_URL": redis_url, "CACHE_KEY_PREFIX": f"oaf-test-{secrets.token_hex(4)}",
           "UPLOAD_EVENTS_KEEPALIVE_SECONDS": "1", "POLL_IDLE_SECONDS": "0.2"}
    with running_system(tmp_path, extra_env=env) as system:
        owner, other = system.create_user("owner"), system.create_user("other")
        mine = EventStream(f"{system.api_url}/api/uploads/events?ticket={ticket(system, owner)}").open()
        theirs = EventStream(f"{system.api_url}/api/uploads/events",
                             headers={"Authorization": f"Token {other}"}).open()
        try:
            assert (mine.status, mine.content_type) == (200, "text/event-stream")
            assert theirs.status == 200
            photo = images.photo_jpeg(tmp_path / "photo.jpg", 1600, 1200, quality=88)
            assert system.upload(owner, {"profile_image": photo}).status_code == 200
            queued = mine.wait_for(lambda m: m.event == "upload", timeout=30)
            upload_id = queued.data["id"]
            assert queued.data["stage"] == "queued"

            system.spawn("worker", ["-m", "media_vm", "worker"])
            ready = mine.wait_for(lambda m: m.event == "upload" and m.data["stage"] == "thumbnail_ready", timeout=90)
            # the thumbnail is servable the moment the event says so
            thumb = requests.get(ready.data["thumbnail_url"], headers={"Accept": "image/jpeg"}, timeout=30)
            assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/jpeg"
            done = mine.wait_for(lambda m: m.event == "upload" and m.data["status"] == "processed", timeout=120)
            # the references follow in the completion's transaction: its complete event comes next
            mine.wait_for(lambda m: m.event == "upload" and m.data["status"] == "complete", timeout=30)
            assert ready.at < done.at
            seen = stages(mine, upload_id)
            assert seen.index("thumbnail_ready") < seen.index("processed")
            order = ["queued", "retrieved", "thumbnail_ready", "analysed", "variants_ready", "processed"]
            assert [s for s in order if s in seen] == sorted(set(seen), key=order.index), "only forward"
            ids = [m.id for m in mine.events()]
            assert ids == sorted(ids) and len(set(ids)) == len(ids)
            assert done.data["media_id"] == ready.data["media_id"] and done.data["variants"]

            # reconnect as EventSource does after a drop: everything after the first event, again
            first = mine.events()[0]
            with EventStream(f"{system.api_url}/api/uploads/events?ticket={ticket(system, owner)}",
                             headers={"Last-Event-ID": str(first.id)}) as again:
                again.wait_for(lambda m: m.event == "upload" and m.id == ids[-1], timeout=30)
                assert [m.id for m in again.events()] == ids[1:]

            time.sleep(1.5)  # a keep-alive comment or two
            assert theirs.events() == [], "another user's stream never carries the upload"
            assert any(m.event == "comment" and m.data == "keep-alive" for m in theirs.messages)
        finally:
            mine.close()
            theirs.close()


def test_the_stream_refuses_without_a_valid_ticket_token_or_session(tmp_path: Path):
    with running_system(tmp_path, extra_env={"GUNICORN_WORKERS": "1", "UPLOAD_EVENTS_MAX_STREAMS": "2"}) as system:
        token = system.create_user("someone")
        r = requests.post(f"{system.api_url}/api/uploads/events/ticket", headers={"Authorization": f"Token {token}"},
                          timeout=30)
        assert set(r.json()) == {"ticket", "expires_at"} and token not in r.json()["ticket"]
        good = r.json()["ticket"]
        for url, headers in [
            (f"{system.api_url}/api/uploads/events", {}),
            (f"{system.api_url}/api/uploads/events?ticket={good[:-2]}xx", {}),  # forged
            (f"{system.api_url}/api/uploads/events", {"Authorization": "Token nope"}),
        ]:
            r = requests.get(url, headers=headers, timeout=30)
            assert r.status_code == 401 and r.json()["extra"]["ticket"], (url, r.text)
        assert requests.post(f"{system.api_url}/api/uploads/events/ticket", timeout=30).status_code == 401
        # one user's open streams are bounded (per process; this server has one)
        url = f"{system.api_url}/api/uploads/events"
        with EventStream(url, headers={"Authorization": f"Bearer {token}"}), \
                EventStream(url, headers={"Authorization": f"Token {token}"}):
            r = requests.get(url, headers={"Authorization": f"Token {token}"}, timeout=30)
            assert r.status_code == 429 and r.json()["extra"] == {"max_streams": 2}
        with EventStream(url, headers={"Authorization": f"Token {token}"}) as stream:  # freed again
            assert stream.status == 200
            # a shutdown ends open streams at once (their clients reconnect elsewhere) and answers a
            # worker's held long poll (LONG_POLL_SECONDS, 10) instead of waiting them out
            system.spawn("worker", ["-m", "media_vm", "worker"], env={"LONG_POLL_SECONDS": "10"})
            time.sleep(3)  # idle: its long poll is held by the main API
            started = time.monotonic()
            system.stop_process("main-api")
            assert time.monotonic() - started < 5, "an open stream or a held long poll held the shutdown"


def test_without_redis_events_still_come_by_polling_and_uploads_never_fail(tmp_path: Path):
    with private_redis(tmp_path) as (port, redis_proc):
        env = {"REDIS_URL": f"redis://127.0.0.1:{port}/0", "UPLOAD_EVENTS_POLL_SECONDS": "0.25"}
        with running_system(tmp_path, extra_env=env) as system:
            token = system.create_user("offline")
            with EventStream(f"{system.api_url}/api/uploads/events?ticket={ticket(system, token)}") as stream:
                redis_proc.terminate()  # Redis goes away under the running system
                redis_proc.wait(timeout=10)
                photo = images.photo_jpeg(tmp_path / "p.jpg", 640, 480)
                sent = time.monotonic()
                assert system.upload(token, {"product_image": photo}).status_code == 200
                queued = stream.wait_for(lambda m: m.event == "upload", timeout=10)
                assert queued.at - sent < 2.0, "the poller found it without Redis"
                run = system.worker()  # the callbacks and progress reports go through too
                assert run.returncode == 0, run.stderr[-2000:]
                stream.wait_for(lambda m: m.event == "upload" and m.data["status"] == "processed", timeout=30)
            assert "Redis did not take event" in system.log("main-api")
