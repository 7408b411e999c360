"""Wake-ups on Redis: an idle worker waits on the main API's wake-up list instead of sleeping.

With ``REDIS_URL`` set, the main API pushes one wake-up onto the list ``MEDIA_WAKEUP_LIST``
(default ``media:wakeup``) for every row it puts in the queue (``main_api.media.wakeup``).
A worker's wake-up thread waits on that list with ``BRPOP`` (blocking up to
``POLL_IDLE_SECONDS``, the idle wait it replaces) and, when it takes one, has the worker poll
``GET /api/media/pending/all`` at once (:class:`~media_vm.worker.poller.Poller`). ``BRPOP`` hands each
wake-up to one waiting client, so one upload wakes one worker.

Nothing depends on a wake-up arriving: the media DB stays the queue (claims, leases, retries)
and the worker keeps its own polls (every ``POLL_IDLE_SECONDS``, or the long poll), so a lost
wake-up, or Redis down, costs at most that idle wait. An outage is logged once as a warning
when it starts (and once when it ends), counted in :attr:`WakeupListener.outages`, which the
heartbeat writes to the media DB (``media_vm_redis_outages_total`` and ``media_vm_redis_up`` on
``/metrics``); the thread tries to reconnect every :data:`RECONNECT_SECONDS` meanwhile.

Several workers: the worker that takes a wake-up registers what the poll lists in the shared
media DB, and every worker with a free slot tries to claim from the media DB on each turn of its
loop (at least every 0.5 s), not only after a poll of its own. So when a busy worker takes the
wake-up of an upload it cannot start, an idle one still claims that upload within half a
second: no wake-up has to be pushed back (``tests/media_vm/worker/test_wakeups.py`` proves it).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)

#: Seconds between reconnection attempts while Redis is down (the worker polls meanwhile).
RECONNECT_SECONDS = 2.0
#: Seconds beyond a ``BRPOP``'s own timeout before its socket read gives up (a Redis that hangs).
SOCKET_MARGIN_SECONDS = 5.0


class WakeupListener:
    """Waits on one Redis list with ``BRPOP``; one instance per worker (not shared by threads).

    ``url`` is a redis-py URL (``redis://host:6379/0``), ``key`` the list, ``block_seconds`` the
    longest one :meth:`wait` blocks (> 0). ``client``: a ready redis-py client (tests); else one
    is made from ``url`` on first use. Connection errors never leave :meth:`wait`.
    """

    def __init__(self, url: str, key: str, *, block_seconds: float, worker_id: str = "",
                 client: Any | None = None) -> None:
        if block_seconds <= 0:
            raise ValueError("block_seconds must be positive")
        if not key:
            raise ValueError("the wake-up list needs a name")
        self.url = url
        self.key = key
        self.block_seconds = block_seconds
        self.worker_id = worker_id
        #: outages this process has seen (each counted once, when it starts)
        self.outages = 0
        #: True while Redis does not answer
        self.down = False
        #: wake-ups taken
        self.taken = 0
        self._client = client
        self._lock = threading.Lock()

    def _redis(self) -> Any:
        with self._lock:
            if self._client is None:
                import redis

                self._client = redis.Redis.from_url(
                    self.url, socket_connect_timeout=2.0,
                    socket_timeout=self.block_seconds + SOCKET_MARGIN_SECONDS)
            return self._client

    def wait(self, stop: threading.Event) -> bool:
        """Block until a wake-up is taken from the list (True), ``block_seconds`` pass (False),
        or Redis fails (False, after waiting :data:`RECONNECT_SECONDS` or until ``stop``)."""
        try:
            got = self._redis().brpop([self.key], timeout=self.block_seconds)
        except Exception as e:  # noqa: BLE001 - RedisError, OSError, or a socket close() pulled away
            if stop.is_set():
                return False  # closed by close() at shutdown
            if not self.down:
                self.down = True
                self.outages += 1
                log.warning("worker %s: Redis wake-ups unavailable (%s); polling every idle period until it is back",
                            self.worker_id, e)
            stop.wait(RECONNECT_SECONDS)
            return False
        if self.down:
            self.down = False
            log.info("worker %s: Redis wake-ups are back", self.worker_id)
        if got is None:
            return False
        self.taken += 1
        return True

    def push(self, value: str = "0") -> None:
        """Push one wake-up (tests, and a tool that wants the workers to poll now). Raises the
        redis-py error when Redis fails."""
        self._redis().lpush(self.key, value)

    def close(self) -> None:
        """Close the connections; a ``BRPOP`` blocked in another thread returns at once."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.connection_pool.disconnect(inuse_connections=True)
            except Exception:  # noqa: BLE001 - closing at shutdown: nothing left to do about it
                log.debug("closing the Redis wake-up connection failed", exc_info=True)
