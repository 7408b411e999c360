"""The Poller: the plain poll and the long poll share one back-off and one failed-poll heartbeat,
and a wake-up ends the back-off of either.

The main API is down here (nothing listens on its port: every poll is refused at once); the
media DB is real (``repo``). What a poll registers when the main API answers is proved with a
live main API in ``test_worker.py``, ``test_wakeups.py`` and ``tests/system/e2e/test_long_poll.py``.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import pytest

from media_vm.api_client import MainAPIClient
from media_vm.config import Settings
from media_vm.exceptions import MainAPIError
from media_vm.worker.poller import Poller
from tests.helpers.processes import free_port, wait_until


def down_api_poller(repo: Any, stop: threading.Event, **fields: Any) -> Poller:
    """A Poller whose main API refuses every connection."""
    settings = Settings(worker_id="poller", main_api_url=f"http://127.0.0.1:{free_port()}", **fields)
    client = MainAPIClient(settings.main_api_url, "key", timeout=2)
    return Poller(settings, repo=repo, client=client, stop=stop, wake=threading.Event())


def heartbeat(repo: Any) -> tuple[int, bool] | None:
    """(queue depth, last poll ok) of the worker's heartbeat row; None before it is written."""
    rows = [w for w in repo.stats()["workers"] if w["worker_id"] == "poller"]
    return (rows[0]["queue_depth"], bool(rows[0]["last_poll_ok"])) if rows else None


def test_failed_plain_polls_back_off_are_recorded_and_end_a_burst(repo):
    poller = down_api_poller(repo, threading.Event(), poll_idle_seconds=5.0, long_poll_seconds=0, max_attempts=3)
    poller.start(burst=True)
    poller.poll_if_due(burst=True)
    assert poller.failures == 1 and heartbeat(repo) == (0, False)
    assert 4.0 < poller.seconds_to_next_poll() <= 5.0, "the first back-off is the idle period"
    poller.poll_if_due(burst=True)
    assert poller.failures == 1, "not due yet: no poll"
    poller.poll_now()  # a wake-up: due at once, back-off or not
    poller.poll_if_due(burst=True)
    assert poller.failures == 2 and 9.0 < poller.seconds_to_next_poll() <= 10.0, "doubled"
    poller.poll_now()
    with pytest.raises(MainAPIError):  # MAX_ATTEMPTS polls, none answered: a burst gives up
        poller.poll_if_due(burst=True)
    assert poller.failures == 3 and not poller.polled_once


def test_failed_long_polls_share_the_back_off_and_a_wakeup_ends_it(repo):
    stop = threading.Event()
    poller = down_api_poller(repo, stop, poll_idle_seconds=30.0, long_poll_seconds=2.0)
    poller.start(burst=False)
    try:
        # the failure is counted, then recorded: wait for the heartbeat row
        wait_until(lambda: heartbeat(repo) == (0, False), timeout=10, interval=0.02,
                   what="the first failed long poll recorded")
        assert poller.failures == 1
        assert poller.backoff.get_interval(poller.failures) == 30.0, "backing off for the idle period"
        assert poller.seconds_to_next_poll() == math.inf, "the long-poll thread alone polls"
        poller.poll_now()  # the main API pushed a wake-up: it is up
        wait_until(lambda: poller.failures == 2, timeout=5, interval=0.02,
                   what="the next long poll, long before the 30 s back-off ends")
        assert poller.backoff.get_interval(poller.failures) == 60.0, "the same back-off, doubled"
    finally:
        stop.set()
        poller.close()
