"""Learning of new work: the plain poll, the long poll and the Redis wake-up, in one place.

The main API lists what is pending (``GET /api/media/pending/all``); a poll registers it in the
media DB, where the worker's loop claims it. The :class:`Poller` learns of it in three ways:

- **plain poll** (burst mode, or ``LONG_POLL_SECONDS=0``): the loop calls
  :meth:`Poller.poll_if_due` on each turn, which polls every ``POLL_IDLE_SECONDS``;
- **long poll** (a long-running worker, ``LONG_POLL_SECONDS`` > 0): a thread asks for rows newer
  than any registered and the main API holds the request open up to ``LONG_POLL_SECONDS``, so an
  idle worker asks about once per that period yet hears of an upload at once; every
  ``FULL_POLL_EVERY``-th poll leaves out ``after``, so it also finds rows ops re-queued;
- **Redis wake-up** (``REDIS_URL``, a long-running worker): a thread waits on the main API's
  wake-up list (``media_vm.wakeups``) and each wake-up taken has the next poll made now: it ends
  the plain poll's idle wait, the long poll's pacing, and the back-off of either.

Every poll, plain or long, is recorded in the worker's heartbeat row (the queue depth it saw,
``poll_ok``: ``/metrics`` and ``/health`` show them). A failed one is logged and counts towards
one back-off (:class:`~media_vm.worker.retry.Retry`): ``POLL_IDLE_SECONDS`` (at least 1 s),
doubled for each further failure, at most ``POLL_ERROR_MAX_SECONDS``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from media_vm.api_client import MainAPIClient
from media_vm.config import Settings
from media_vm.db import Repository
from media_vm.defaults import FULL_POLL_EVERY, POLL_ERROR_MAX_SECONDS
from media_vm.exceptions import MainAPIError
from media_vm.wakeups import WakeupListener
from media_vm.worker.retry import Retry

log = logging.getLogger("media_vm.worker")  # the name its log lines have always carried


class Poller:
    """Feeds the media DB from the main API for one worker, and wakes the worker's loop.

    Collaborators: ``settings`` (``worker_id``, ``poll_idle_seconds``, ``long_poll_seconds``,
    ``max_attempts``, ``redis_url``, ``wakeup_list``), ``repo`` (the media DB), ``client`` (the
    main API), the worker's ``stop`` flag and its ``wake`` event, set when a poll registered new
    rows or a wake-up was taken (the loop then claims at once). ``wakeups`` waits on the Redis
    wake-up list; by default one is made from ``settings.redis_url`` when that is set (none
    without it). :meth:`start` and :meth:`close` bracket the loop.
    """

    def __init__(self, settings: Settings, *, repo: Repository, client: MainAPIClient, stop: threading.Event,
                 wake: threading.Event, wakeups: WakeupListener | None = None) -> None:
        self.settings = settings
        self.repo = repo
        self.client = client
        self.stop = stop
        self.wake = wake
        if wakeups is None and settings.redis_url:
            wakeups = WakeupListener(settings.redis_url, settings.wakeup_list, worker_id=settings.worker_id,
                                     block_seconds=max(0.05, settings.poll_idle_seconds))
        self.wakeups = wakeups
        #: the one back-off of failed polls, plain or long; in burst mode a main API never
        #: reached is given up after ``max_attempts`` failed polls
        self.backoff = Retry(max_attempts=settings.max_attempts, base_seconds=max(settings.poll_idle_seconds, 1.0),
                             cap_seconds=POLL_ERROR_MAX_SECONDS)
        #: failed polls since the last one that succeeded
        self.failures = 0
        #: whether a poll succeeded since :meth:`start`
        self.polled_once = False
        #: The main API's time of the last listing (its ``now``): the next poll also asks for the
        #: rows a retry put back in the queue since then (their ids are below the id cursor).
        self._listed_at: str | None = None
        self._poll_now = threading.Event()  # set by a wake-up: poll now, not at the next tick
        self._next_poll = 0.0  # monotonic time of the plain poll's next poll
        self._long_poller: threading.Thread | None = None

    def poll(self, *, wait: float = 0.0, after: int | None = None) -> tuple[int, int]:
        """Register what the main API lists as pending: (how many it listed, how many were new).
        ``wait``: seconds the main API may hold the request for new rows (a long poll). With
        ``after``, the rows a retry put back in the queue since the previous listing come too, so
        a retried upload is taken up at once, not at the next full poll. Raises
        :class:`MainAPIError` when the main API cannot be polled."""
        items, now = self.client.pending_page(wait=wait, after=after, since=self._listed_at)
        self._listed_at = now or self._listed_at
        new = sum(1 for item in items if self.repo.register(dict(item)))
        if new:
            log.info("worker %s: %s new of %s pending", self.settings.worker_id, new, len(items))
        return len(items), new

    def poll_now(self) -> None:
        """Have the next poll made at once (a wake-up): ends the plain poll's idle wait, the long
        poll's pacing, or a back-off."""
        self._poll_now.set()
        self.wake.set()

    def start(self, *, burst: bool) -> None:
        """Before the loop: the back-off reset and, for a long-running worker, the long-poll thread
        (``LONG_POLL_SECONDS`` > 0; the loop's own plain polls otherwise) and the wake-up thread
        (with Redis) started. In burst mode the loop's plain polls alone feed the media DB."""
        self.failures, self.polled_once = 0, False
        self._next_poll = 0.0
        if not burst and self.settings.long_poll_seconds > 0:
            self._long_poller = threading.Thread(target=self._long_poll_loop, name="media-poller", daemon=True)
            self._long_poller.start()
            self._next_poll = float("inf")  # the long-poll thread feeds the media DB
        if not burst and self.wakeups is not None:
            self._poll_now.clear()
            threading.Thread(target=self._wakeup_loop, name="media-wakeups", daemon=True).start()

    def close(self) -> None:
        """After the loop (the worker's stop flag set): the Redis connection closed, so a ``BRPOP``
        in the wake-up thread returns at once. The long-poll thread (a daemon) ends when its held
        poll returns; a shutdown does not wait up to ``LONG_POLL_SECONDS`` for it."""
        if self.wakeups is not None:
            self.wakeups.close()
        self._long_poller = None

    def poll_if_due(self, *, burst: bool) -> None:
        """The loop's plain poll (burst mode, or no long polling): when its idle period has
        passed, or at once after a wake-up. In burst mode a main API that never answered raises
        its :class:`MainAPIError` once the back-off is exhausted (``MAX_ATTEMPTS`` failures)."""
        now = time.monotonic()
        woken = self._long_poller is None and self._poll_now.is_set()
        if now < self._next_poll and not woken:
            return
        self._poll_now.clear()
        try:
            listed, _ = self.poll()
        except MainAPIError as e:
            self._next_poll = now + self._failed(e)
            if burst and self.backoff.exhausted(self.failures) and not self.polled_once:
                raise
            return
        self._next_poll = now + self.settings.poll_idle_seconds
        self._succeeded(listed)

    def seconds_to_next_poll(self) -> float:
        """Seconds until the loop's next plain poll is due (infinite while the long-poll thread
        feeds the media DB); the loop waits no longer than that for work."""
        return self._next_poll - time.monotonic()

    def _succeeded(self, listed: int) -> None:
        """A poll answered: the back-off reset, and the queue depth it saw in the heartbeat row."""
        self.failures, self.polled_once = 0, True
        self.repo.heartbeat(self.settings.worker_id, queue_depth=listed, poll_ok=True)

    def _failed(self, error: MainAPIError) -> float:
        """A poll failed: counted, logged and recorded in the heartbeat row (a media DB away too
        is met by the loop's next claim). Returns the seconds of back-off before the next poll."""
        self.failures += 1
        delay = self.backoff.get_interval(self.failures)
        log.warning("worker %s: polling failed (%s); next try in %.0fs", self.settings.worker_id, error, delay)
        with contextlib.suppress(Exception):
            self.repo.heartbeat(self.settings.worker_id, queue_depth=0, poll_ok=False)
        return delay

    def _long_poll_loop(self) -> None:
        """The long-poll thread: long polls until the worker stops; an answer with nothing new
        that came at once (rows already in flight, or an API too old to hold the request) is
        followed by an idle wait, so the thread never spins."""
        polls = 0
        wait = self.settings.long_poll_seconds
        while not self.stop.is_set():
            full = polls % FULL_POLL_EVERY == 0
            started = time.monotonic()
            self._poll_now.clear()  # this poll answers any wake-up taken so far
            try:
                listed, new = self.poll(wait=wait, after=None if full else self.repo.max_main_api_id())
                polls += 1
                self._succeeded(listed)
                if new:
                    self.wake.set()
                elif time.monotonic() - started < wait / 2:
                    self._idle_wait(self.settings.poll_idle_seconds)
            except MainAPIError as e:
                self._idle_wait(self._failed(e))  # a wake-up (the main API pushed it: it is up) ends it
            except Exception:  # noqa: BLE001 - e.g. the media DB away: wait and resume
                log.exception("worker %s: poller error; retrying shortly", self.settings.worker_id)
                self.stop.wait(2.0)

    def _idle_wait(self, seconds: float) -> None:
        """Wait ``seconds``, or less: until the worker stops or a wake-up asks for a poll now."""
        deadline = time.monotonic() + seconds
        while not self.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self._poll_now.wait(min(left, 0.5)):
                return

    def _wakeup_loop(self) -> None:
        """The wake-up thread: wait on the Redis list and, for each wake-up taken, have the next
        poll made now. Redis errors stay inside :meth:`WakeupListener.wait`."""
        assert self.wakeups is not None
        while not self.stop.is_set():
            if self.wakeups.wait(self.stop) and not self.stop.is_set():
                log.debug("worker %s: woken by Redis", self.settings.worker_id)
                self.poll_now()
