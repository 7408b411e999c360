"""Redis wake-ups (issue 18): an idle worker waits on the main API's wake-up list with BRPOP.

In this process, against the live main API of ``vm`` and real Redis: the machine's at
127.0.0.1:6379 (a list of the test's own), and a private ``redis-server`` this test stops and
starts for the outage. The workers poll rarely (``POLL_IDLE_SECONDS=30``, no long polling), so
an upload claimed within a second was found because a wake-up fired. The one-second bound is
functional, not a benchmark (``make bench`` measures the latency).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.processes import free_port, wait_until
from tests.helpers.redis_servers import require_shared_redis, start_redis_server, stop_redis_server


@pytest.fixture
def wakeup_list(settings, monkeypatch) -> Iterator[tuple[str, str]]:
    """The main API pushing wake-ups to the machine's Redis, onto a list of this test's own:
    yields ``(redis url, list name)``; the list is deleted afterwards."""
    import redis

    from main_api.media.live import records

    url = require_shared_redis()
    key = f"test:{uuid.uuid4().hex}:media:wakeup"
    settings.REDIS_URL, settings.MEDIA_WAKEUP_LIST = url, key
    monkeypatch.setattr(records, "_redis_client", None)
    yield url, key
    with contextlib.closing(redis.Redis.from_url(url)) as client:
        client.delete(key)


class StepLog:
    """A ``before_step`` hook: when each worker first started a step (its claim), and an optional
    gate that holds the first image of a worker (a busy worker)."""

    def __init__(self) -> None:
        self.first_step: dict[str, float] = {}
        self.gate: dict[str, threading.Event] = {}

    def hook(self, name: str, *, hold: bool = False) -> Any:
        gate = self.gate.setdefault(name, threading.Event())
        if not hold:
            gate.set()

        def before_step(_step: Any) -> None:
            self.first_step.setdefault(name, time.monotonic())
            gate.wait(60)

        return before_step


@contextlib.contextmanager
def running(worker: Any, *, first_poll: bool = True) -> Iterator[Any]:
    """``worker.work()`` in a thread until the block ends (stop, then warm shutdown), once it has
    made its first poll (``first_poll`` False: at once): from then on it polls again only after
    ``POLL_IDLE_SECONDS``."""
    thread = threading.Thread(target=worker.work, name=f"work-{worker.settings.worker_id}", daemon=True)
    thread.start()
    try:
        if first_poll:
            wait_until(lambda: worker.poller.polled_once, timeout=30, interval=0.02, what="the worker's first poll")
        yield worker
    finally:
        worker.stop.set()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the worker did not stop"


def rarely_polling(vm: Any, name: str, **options: Any) -> Any:
    return vm.worker(worker_id=name, poll_idle_seconds=30, long_poll_seconds=0, **options)


def test_an_upload_is_claimed_within_a_second_because_the_brpop_fired(vm, wakeup_list):
    url, key = wakeup_list
    steps = StepLog()
    worker = rarely_polling(vm, "woken", redis_url=url, wakeup_list=key, before_step=steps.hook("woken"))
    token = vm.user()
    with running(worker):
        time.sleep(0.3)  # idle: blocked in BRPOP
        vm.upload(token)
        answered = time.monotonic()
        wait_until(lambda: "woken" in steps.first_step, timeout=10, interval=0.01, what="the claim")
        took = steps.first_step["woken"] - answered
    assert took < 1.0, f"claimed {took:.2f} s after the upload was answered, with POLL_IDLE_SECONDS=30"
    assert worker.wakeups.taken == 1, "the BRPOP fired"


def test_a_busy_worker_taking_the_wakeup_leaves_no_upload_waiting_for_the_idle_period(vm, wakeup_list):
    """Worker ``busy`` (Redis, one slot, held inside its first image) is the only one listening
    on Redis, so it takes the second upload's wake-up though it cannot start it; worker ``idle``
    (no Redis, polling every 30 s) still claims that upload within a second, from the shared media
    DB the busy worker's poll registered it in: nothing has to be pushed back onto the list."""
    url, key = wakeup_list
    steps = StepLog()
    busy = rarely_polling(vm, "busy", redis_url=url, wakeup_list=key, before_step=steps.hook("busy", hold=True))
    idle = rarely_polling(vm, "idle", before_step=steps.hook("idle"))
    token = vm.user()
    with running(busy):
        vm.upload(token)
        wait_until(lambda: "busy" in steps.first_step, timeout=10, interval=0.01, what="the busy worker's claim")
        with running(idle):
            vm.upload(token)
            answered = time.monotonic()
            wait_until(lambda: "idle" in steps.first_step, timeout=10, interval=0.01, what="the idle worker's claim")
            took = steps.first_step["idle"] - answered
            assert busy.wakeups.taken == 2 and idle.wakeups is None
            steps.gate["busy"].set()
    assert took < 1.0, f"the idle worker claimed the second upload after {took:.2f} s"


def test_redis_stopped_and_started_during_uploads_loses_nothing(vm, settings, monkeypatch, tmp_path, caplog):
    """Redis goes away between uploads and comes back: every upload is processed (those of the
    outage by the worker's own polls), the outage is logged once, counted in the heartbeat and
    on ``/metrics``, and the wake-ups work again after it."""
    from main_api.media import wakeup
    from main_api.media.live import records
    from media_vm.http.routes.metrics import MediaDBCollector

    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    settings.REDIS_URL, settings.MEDIA_WAKEUP_LIST = url, "media:wakeup"  # the server is the test's own
    monkeypatch.setattr(records, "_redis_client", None)
    monkeypatch.setattr(wakeup, "_down_until", {})
    # the main API leaves a failed Redis alone for a while; short here, so that the upload after
    # the outage is pushed (tests/main_api/media/test_media_wakeup.py tests the pause itself)
    monkeypatch.setattr(wakeup, "RETRY_AFTER_SECONDS", 0.2)
    (tmp_path / "redis").mkdir()
    server = start_redis_server(tmp_path / "redis", port)
    steps = StepLog()
    worker = vm.worker(worker_id="outage", poll_idle_seconds=1.0, long_poll_seconds=0, redis_url=url,
                       wakeup_list="media:wakeup", before_step=steps.hook("outage"))
    token = vm.user()

    def done() -> int:
        return sum(1 for row in vm.rows() if row["status"] == "done")

    try:
        with caplog.at_level(logging.INFO, logger="media_vm.wakeups"), running(worker):
            vm.upload(token)
            wait_until(lambda: done() == 1, timeout=60, interval=0.1, what="the first upload processed")
            stop_redis_server(server)
            vm.upload(token)  # Redis down: the main API's push fails, the upload does not
            vm.upload(token)
            wait_until(lambda: worker.wakeups.down, timeout=30, interval=0.05, what="the outage seen")
            wait_until(lambda: done() == 3, timeout=90, interval=0.1, what="the uploads of the outage processed")
            worker.liveness.beat()
            families = {f.name: f for f in MediaDBCollector(vm.repo).collect()}
            assert [s.value for s in families["media_vm_redis_up"].samples] == [0]
            server = start_redis_server(tmp_path / "redis", port)
            wait_until(lambda: not worker.wakeups.down, timeout=30, interval=0.05, what="the wake-ups back")
            taken = worker.wakeups.taken
            vm.upload(token)
            wait_until(lambda: done() == 4, timeout=60, interval=0.1, what="the upload after the outage processed")
            assert worker.wakeups.taken == taken + 1, "woken by Redis again"
            worker.liveness.beat()
    finally:
        stop_redis_server(server)
    assert len(vm.rows()) == 4 and done() == 4
    families = {f.name: f for f in MediaDBCollector(vm.repo).collect()}
    assert [(s.labels, s.value) for s in families["media_vm_redis_outages"].samples] == [({"worker": "outage"}, 1)]
    assert [s.value for s in families["media_vm_redis_up"].samples] == [1]
    warnings = [r for r in caplog.records if r.name == "media_vm.wakeups" and r.levelno == logging.WARNING]
    assert len(warnings) == 1, "warned once per outage"
    assert any("back" in r.getMessage() for r in caplog.records if r.name == "media_vm.wakeups")


def test_a_wakeup_ends_the_back_off_after_failed_polls(vm, wakeup_list):
    """The worker started before the main API answered: its first long polls failed and it
    backs off POLL_IDLE_SECONDS (30 s) and more; the first upload's wake-up ends that wait."""
    from tests.helpers.fault_proxy import FaultProxy

    url, key = wakeup_list
    steps = StepLog()
    with FaultProxy(vm.api_url) as proxy:
        proxy.faults[("GET", "/api/media/pending/all")] = "refuse"  # the main API is not up yet
        worker = vm.worker(worker_id="early", api_url=proxy.url, poll_idle_seconds=30, long_poll_seconds=2,
                           redis_url=url, wakeup_list=key, before_step=steps.hook("early"))
        token = vm.user()
        with running(worker, first_poll=False):
            wait_until(lambda: proxy.hits.get(("GET", "/api/media/pending/all"), 0) >= 1, timeout=10,
                       interval=0.05, what="a failed poll")
            del proxy.faults[("GET", "/api/media/pending/all")]  # the main API is up
            vm.upload(token)
            wait_until(lambda: "early" in steps.first_step, timeout=10, interval=0.05,
                       what="the claim, within the 30 s back-off")
    assert worker.wakeups.taken >= 1
