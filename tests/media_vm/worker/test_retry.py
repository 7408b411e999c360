"""One back-off arithmetic (``media_vm.worker.retry.Retry``) for both loops, each with the
figures it had before they shared it: the worker's failed steps and polls, the seed's Redis jobs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from media_vm.config import Settings
from media_vm.worker.retry import Retry


def worker(tmp_path: Path, **fields: Any) -> Any:
    """A worker on collaborators that are never used here (nothing is polled or claimed)."""
    from media_vm.api_client import MainAPIClient
    from media_vm.db import Repository, make_engine
    from media_vm.storage import LocalStorage
    from media_vm.worker import Worker

    settings = Settings(worker_id="retry", storage_root=tmp_path, **fields)
    return Worker(settings, repo=Repository(make_engine(f"sqlite:///{tmp_path / 'media.sqlite3'}")),
                  storage=LocalStorage(tmp_path), client=MainAPIClient("http://127.0.0.1:9", "unused"))


def test_the_wait_doubles_from_the_base_up_to_the_cap():
    retry = Retry(max_attempts=4, base_seconds=0.5, cap_seconds=3.0)
    assert [retry.get_interval(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert [retry.exhausted(n) for n in range(1, 6)] == [False, False, False, True, True]


@pytest.mark.parametrize("fields", [{"max_attempts": 0}, {"base_seconds": -1.0}, {"cap_seconds": -1.0}])
def test_impossible_figures_are_refused(fields):
    with pytest.raises(ValueError):
        Retry(**fields)


def test_a_failed_step_is_retried_after_the_base_doubled_up_to_five_minutes(tmp_path):
    retry = worker(tmp_path, max_attempts=3, retry_base_seconds=2.0).retry
    assert [retry.get_interval(n) for n in range(1, 11)] == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert [retry.exhausted(n) for n in (1, 2, 3)] == [False, False, True]


def test_the_seed_redis_workers_nth_retry_waits_retry_delay_times_two_to_the_n_minus_one(tmp_path):
    from media_vm.seed_redis_worker import RedisWorker

    retry = RedisWorker(None, root=tmp_path, max_retries=12, retry_delay=1.5).retry
    assert [retry.get_interval(n) for n in range(1, 13)] == [1.5 * 2 ** (n - 1) for n in range(1, 13)]
    assert retry.get_interval(12) == 3072.0 and retry.cap_seconds == math.inf, "uncapped"
    # the 13th try is the 12th retry: the last one --max-retries 12 allows
    assert not retry.exhausted(12) and retry.exhausted(13)
    assert RedisWorker(None, root=tmp_path, max_retries=0).retry.exhausted(1), "--max-retries 0: no retry"


@pytest.mark.parametrize(("poll_idle_seconds", "waits"), [
    (5.0, [5, 10, 20, 40, 60, 60]),
    (0.05, [1, 2, 4, 8, 16, 32, 60]),  # at least a second
])
def test_a_failed_poll_is_followed_by_the_idle_period_doubled_up_to_a_minute(tmp_path, poll_idle_seconds, waits):
    backoff = worker(tmp_path, poll_idle_seconds=poll_idle_seconds).poller.backoff
    assert [backoff.get_interval(n) for n in range(1, len(waits) + 1)] == waits
