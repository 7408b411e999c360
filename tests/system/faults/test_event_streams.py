"""The owner's event stream (``GET /api/uploads/events``) over real processes (issue 25, 5b, 5c).

Two main API servers (``python -m main_api serve``, two uvicorn worker processes each) on one
database, as two hosts behind a load balancer, with the shared cache of the deployment: the
database's ``django_cache``, or Redis with ``REDIS_URL``.

- One user's open streams are capped in all four processes together
  (``UPLOAD_EVENTS_MAX_STREAMS``), a closed stream gives its slot back, an open one keeps it past
  its lease (renewed), and the slots of a server killed with SIGKILL come back once their leases
  lapse (``UPLOAD_EVENTS_STREAM_LEASE_SECONDS``).
- A ``Last-Event-ID`` above the newest event (a database restored from a backup) starts the
  stream at the newest event: the events recorded after it arrive; one that is not a decimal
  number is a 400 naming it; the same for ``?last_event_id=``.
"""

from __future__ import annotations

import contextlib
import secrets
import signal
import time
from collections.abc import Iterator

import pytest
import requests

from tests.helpers.api_servers import Servers, api_servers
from tests.helpers.redis_servers import require_shared_redis
from tests.helpers.sse import EventStream

MAX_STREAMS = 3
LEASE_SECONDS = 3


@pytest.fixture(scope="module", params=["database cache", "redis"])
def servers(request, tmp_path_factory) -> Iterator[Servers]:
    env = {"UPLOAD_EVENTS_MAX_STREAMS": str(MAX_STREAMS), "UPLOAD_EVENTS_STREAM_LEASE_SECONDS": str(LEASE_SECONDS),
           "UPLOAD_EVENTS_KEEPALIVE_SECONDS": "1"}
    prefix = f"oaf-test-{secrets.token_hex(6)}"
    if request.param == "redis":
        env |= {"REDIS_URL": require_shared_redis(), "CACHE_KEY_PREFIX": prefix}
    try:
        with api_servers(tmp_path_factory.mktemp("streams"), **env) as s:
            yield s
    finally:
        if request.param == "redis":
            import redis

            client = redis.Redis(host="127.0.0.1", port=6379, db=0)
            for key in client.scan_iter(f"{prefix}:*"):
                client.delete(key)
            client.close()


def open_stream(url: str, token: str, headers: dict[str, str] | None = None) -> EventStream:
    return EventStream(f"{url}/api/uploads/events", headers={"Authorization": f"Token {token}", **(headers or {})}
                       ).open(timeout=30)


def opened_until_refused(urls: list[str], token: str, streams: list[EventStream]) -> int:
    """Open streams round-robin over ``urls`` until one is refused (429); how many opened."""
    opened = 0
    for i in range(4 * MAX_STREAMS):
        stream = open_stream(urls[i % len(urls)], token)
        if stream.status == 429:
            stream.close()
            return opened
        assert stream.status == 200, stream.status
        streams.append(stream)
        opened += 1
    return opened


def wait_for_a_free_slot(url: str, token: str, *, timeout: float) -> EventStream:
    deadline = time.monotonic() + timeout
    while True:
        stream = open_stream(url, token)
        if stream.status == 200:
            return stream
        stream.close()
        assert stream.status == 429 and time.monotonic() < deadline, "no slot came back"
        time.sleep(0.2)


def test_one_users_streams_are_capped_across_processes_and_hosts(servers):
    token = servers.system.create_user(f"streamer{secrets.token_hex(3)}")
    streams: list[EventStream] = []
    try:
        # round-robin over two servers of two processes each: a cap per process let 4 x 3 through
        assert opened_until_refused(servers.urls, token, streams) == MAX_STREAMS
        for url in servers.urls:  # refused on every server, with the project's error
            refused = requests.get(f"{url}/api/uploads/events", headers={"Authorization": f"Token {token}"},
                                   timeout=30)
            assert refused.status_code == 429 and refused.json() == {
                "message": "too many open event streams", "extra": {"max_streams": MAX_STREAMS}}
        other = open_stream(servers.urls[0], servers.system.create_user(f"bystander{secrets.token_hex(3)}"))
        assert other.status == 200, "each user has slots of their own"
        other.close()

        # open streams keep their slots past the lease: each process renews its streams' leases
        time.sleep(2 * LEASE_SECONDS)
        assert opened_until_refused(servers.urls, token, streams) == 0

        # a stream the client closes gives its slot back (on the other server's side it shows at once)
        streams.pop(0).close()
        started = time.monotonic()
        streams.append(wait_for_a_free_slot(servers.urls[1], token, timeout=LEASE_SECONDS - 1))
        freed_in = time.monotonic() - started
        assert freed_in < LEASE_SECONDS - 1, f"the slot came back in {freed_in:.1f} s: by the lease, not the close"
        assert opened_until_refused(servers.urls, token, streams) == 0
    finally:
        for stream in streams:
            stream.close()


def test_the_slots_of_a_killed_server_come_back_once_their_leases_lapse(servers):
    token = servers.system.create_user(f"killed{secrets.token_hex(3)}")
    streams: list[EventStream] = []
    try:
        for _ in range(MAX_STREAMS):
            streams.append(open_stream(servers.urls[0], token))
        assert [s.status for s in streams] == [200] * MAX_STREAMS
        refused = open_stream(servers.urls[1], token)
        refused.close()
        assert refused.status == 429
        servers.system.stop_process("main-api-0", sig=signal.SIGKILL)  # no release, no shutdown
        killed = time.monotonic()
        survivor = wait_for_a_free_slot(servers.urls[1], token, timeout=LEASE_SECONDS + 10)
        streams.append(survivor)
        assert time.monotonic() - killed >= LEASE_SECONDS - 1.5, "a slot of a killed stream came back before its lease"
        # the killed streams' leases were taken one after another, so they lapse one after another
        came_back, deadline = 0, time.monotonic() + 10
        while came_back < MAX_STREAMS - 1 and time.monotonic() < deadline:
            came_back += opened_until_refused(servers.urls[1:], token, streams)
            time.sleep(0.2)
        assert came_back == MAX_STREAMS - 1, "all of them came back"
    finally:
        for stream in streams:
            stream.close()
        with contextlib.suppress(Exception):
            servers.restart(0)


def upload_event_ids(servers: Servers, token: str, i: int) -> None:
    assert servers.patch(i, token, files=1).status_code == 200


@pytest.mark.parametrize("given", ["header", "query"])
def test_a_last_event_id_above_the_newest_starts_at_the_newest(servers, given):
    token = servers.system.create_user(f"restored{secrets.token_hex(3)}")
    upload_event_ids(servers, token, 0)  # an event the stream is not to replay
    replay = open_stream(servers.urls[0], token, {"Last-Event-ID": "0"})
    try:
        first = replay.wait_for(lambda m: m.event == "upload", timeout=30)
    finally:
        replay.close()

    streams = []
    try:
        for n, value in enumerate([str(first.id + 1_000_000), "9" * 40]):  # past any id, even a BIGINT's
            url = f"{servers.urls[n % 2]}/api/uploads/events"
            headers = {"Authorization": f"Token {token}"}
            if given == "header":
                headers["Last-Event-ID"] = value
            else:
                url += f"?last_event_id={value}"
            stream = EventStream(url, headers=headers).open(timeout=30)
            streams.append(stream)
            assert stream.status == 200, (value, stream.status)
        upload_event_ids(servers, token, 1)
        for stream in streams:
            new = stream.wait_for(lambda m: m.event == "upload", timeout=30)
            assert new.id > first.id, "the new event arrives, the one before the connection is not replayed"
            assert [m.id for m in stream.events()] == [new.id]
    finally:
        for stream in streams:
            stream.close()


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "0x10", "１２"])
def test_a_last_event_id_that_is_not_a_decimal_number_is_a_400_naming_it(servers, value):
    token = servers.system.create_user(f"garbled{secrets.token_hex(3)}")
    url = f"{servers.urls[0]}/api/uploads/events"
    auth = {"Authorization": f"Token {token}"}
    for name, params, headers in [("Last-Event-ID", {}, {**auth, "Last-Event-ID": value.encode()}),
                                  ("last_event_id", {"last_event_id": value}, auth)]:
        # stream=True: a stream that opened anyway would never end
        with requests.get(url, params=params, headers=headers, timeout=30, stream=True) as response:
            assert response.status_code == 400, (name, value, response.status_code)
            assert response.headers["Content-Type"].startswith("application/json")
            body = response.json()
        assert set(body) == {"message", "extra"} and list(body["extra"]["fields"]) == [name], body


def test_a_stream_without_last_event_id_starts_at_its_connection(servers):
    """Issue 26, 6: an event recorded a second before a fresh stream connects (inside every
    poller's look-back) is not sent; the one recorded after it is."""
    token = servers.system.create_user(f"fresh{secrets.token_hex(3)}")
    upload_event_ids(servers, token, 0)
    time.sleep(1)
    stream = open_stream(servers.urls[1], token)
    try:
        assert stream.status == 200
        upload_event_ids(servers, token, 1)
        new = stream.wait_for(lambda m: m.event == "upload", timeout=30)
        time.sleep(1)  # several polls more, each looking back over the first event
        assert [m.id for m in stream.events()] == [new.id], "only the event recorded after the connection"
    finally:
        stream.close()
