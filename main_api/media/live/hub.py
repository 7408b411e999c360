"""The event hub of one main API process: the streams of ``GET /api/uploads/events`` it holds
and the one poller that feeds them.

One :class:`EventHub` per main API process serves all its streams: one poller reads new events
of every user (``upload_events_after``) and hands each to the streams of its user, so an
open stream costs a queue on the event loop and no query of its own. Without Redis the poller
looks every ``UPLOAD_EVENTS_POLL_SECONDS`` (0.25); with ``REDIS_URL`` an announcement on the
events channel (``announce``, published by whichever process or host recorded the event)
wakes it at once, and its own interval is only the safety net for a Redis that is away.

The hub also keeps the leases of its streams' slots (``stream_slots``: the cap on one user's
open streams in all processes) alive: its poller renews them every third of
``UPLOAD_EVENTS_STREAM_LEASE_SECONDS`` and a stream's end releases its slot.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from main_api.common.serving import on_server_shutdown
from main_api.media.live.records import active_user_ids, channel_name, upload_events_last_id, upload_events_recent
from main_api.media.live.stream_slots import StreamSlot, stream_slot_release, stream_slots_renew

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Events one poll reads at most (the next poll goes on from there at once).
POLL_BATCH = 500
#: Seconds between two checks that the users of the open streams still have an active account.
USER_CHECK_SECONDS = 15.0

def in_thread(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """``func`` run in an executor thread, its database connection first checked (Django's
    ``close_old_connections``: one past ``CONN_MAX_AGE`` or broken, e.g. after MariaDB's
    ``wait_timeout``, is closed and opened again), as no request cycle does it in these threads."""

    def run(*args: Any, **kwargs: Any) -> T:
        close_old_connections()
        return func(*args, **kwargs)

    return sync_to_async(run, thread_sensitive=False)


def lease_seconds() -> float:
    """``UPLOAD_EVENTS_STREAM_LEASE_SECONDS``: how long a stream's slot lease lasts unless renewed."""
    return float(settings.UPLOAD_EVENTS_STREAM_LEASE_SECONDS)


class EventHub:
    """The streams of one process (one event loop) and the one poller that feeds them (see the
    module doc). Started by the first stream; idle (no query) while no stream is open.

    A row's id is given when it is inserted, not when its transaction commits, so an event may
    become visible after one with a higher id: each poll therefore also looks back over the
    events of the last ``LOOKBACK_SECONDS`` and hands on only those it has not seen."""

    #: Seconds of events each poll reads again, for the ones committed out of id order.
    LOOKBACK_SECONDS = 5.0
    #: Ids remembered as handed on (enough for several polls' lookback at a high event rate).
    SEEN_IDS = 20_000

    def __init__(self) -> None:
        self.queues: dict[int, set[asyncio.Queue[Any]]] = defaultdict(set)
        self.last_id: int | None = None
        self.wake = asyncio.Event()
        self.redis_connected = False
        self.seen: OrderedDict[int, None] = OrderedDict()
        #: The stream slots (``stream_slots``) the open streams of this process hold.
        self.slots: set[StreamSlot] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._releases: set[asyncio.Future[Any]] = set()

    async def end_streams_of_gone_users(self) -> int:
        """End the streams of users whose account is gone or inactive (one query for all the
        process's streams); the number of streams ended."""
        subscribed = set(self.queues)
        alive = await in_thread(active_user_ids)(subscribed)
        ended = 0
        for user_id in subscribed - alive:
            for queue in list(self.queues.get(user_id, ())):
                queue.put_nowait(None)
                ended += 1
        return ended

    def close(self) -> None:
        """End every open stream (the server is shutting down): their clients reconnect, to
        another process or once this one is back, and replay what they missed."""
        for queues in list(self.queues.values()):
            for queue in list(queues):
                queue.put_nowait(None)

    async def subscribe(self, user_id: int) -> asyncio.Queue[Any]:
        """A queue that receives every new event of ``user_id`` (``UploadEvent`` rows). The
        first stream after an idle spell starts the poller from the newest event (plus the
        look-back), not from where it stopped looking."""
        if not self.queues:
            self.last_id = await in_thread(upload_events_last_id)()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self.queues[user_id].add(queue)
        self.wake.set()
        return queue

    def unsubscribe(self, user_id: int, queue: asyncio.Queue[Any]) -> None:
        """Stop feeding ``queue`` (its stream ended)."""
        subscribed = self.queues.get(user_id)
        if subscribed is not None:
            subscribed.discard(queue)
            if not subscribed:
                del self.queues[user_id]

    def hold(self, slot: StreamSlot | None) -> None:
        """Keep renewing ``slot``'s lease while its stream is open (None: a stream without one)."""
        if slot is not None:
            self.slots.add(slot)

    def release(self, slot: StreamSlot | None) -> None:
        """Give ``slot`` back (its stream ended), once, in the loop's executor: called from the
        stream's ``finally``, which may be unwinding a cancellation (the client went away) and
        must not wait, or when a stream that never started is collected. Off the loop, or if the
        process ends first, the lease is no longer renewed and lapses on its own."""
        if slot is None or slot not in self.slots:
            return
        self.slots.discard(slot)
        try:
            future = asyncio.ensure_future(in_thread(stream_slot_release)(slot))
        except RuntimeError:  # no running loop (collected elsewhere): the lease lapses
            return
        self._releases.add(future)
        future.add_done_callback(self._releases.discard)

    def end_stream(self, user_id: int, queue: asyncio.Queue[Any], slot: StreamSlot | None) -> None:
        """A stream ended (or its response was dropped before it started): stop feeding its
        queue and give its slot back. Idempotent."""
        self.unsubscribe(user_id, queue)
        self.release(slot)

    async def renew_slots(self) -> int:
        """Renew the leases of the slots this process's streams hold (one pass); the number renewed."""
        if not self.slots:
            return 0
        return await in_thread(stream_slots_renew)(list(self.slots), lease_seconds=lease_seconds())

    def start(self) -> None:
        """Start the poller (and the Redis listener, with ``REDIS_URL``) on the running loop, or
        start again whichever of them has ended."""
        if not self._tasks or self._tasks[0].done():
            self._tasks[:1] = [asyncio.ensure_future(self._poll_forever())]
        if getattr(settings, "REDIS_URL", ""):
            if len(self._tasks) < 2:
                self._tasks.append(asyncio.ensure_future(self._listen_forever()))
            elif self._tasks[1].done():
                self._tasks[1] = asyncio.ensure_future(self._listen_forever())

    async def _poll_forever(self) -> None:
        loop = asyncio.get_running_loop()
        next_user_check = loop.time() + USER_CHECK_SECONDS
        next_renewal = loop.time() + lease_seconds() / 3
        while True:
            interval = float(settings.UPLOAD_EVENTS_POLL_SECONDS)
            if self.redis_connected:
                interval = max(interval, 1.0)  # announcements wake it; this is the safety net
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=interval)
            except TimeoutError:
                pass
            self.wake.clear()
            if not self.queues:
                continue
            try:
                if loop.time() >= next_renewal:  # first: a poll that fails must not let the leases lapse
                    next_renewal = loop.time() + lease_seconds() / 3
                    await self.renew_slots()
                await self.poll_once()
                if loop.time() >= next_user_check:
                    next_user_check = loop.time() + USER_CHECK_SECONDS
                    await self.end_streams_of_gone_users()
            except Exception:  # noqa: BLE001 - e.g. the database away for a moment: try again later
                log.exception("upload events: the poller failed; trying again")
                await asyncio.sleep(1.0)

    async def poll_once(self) -> int:
        """Hand every event of a subscribed user not handed on yet to that user's queues (the
        new ones and those of the look-back); the number handed on."""
        rows = await in_thread(upload_events_recent)(
            after=self.last_id or 0, lookback_seconds=self.LOOKBACK_SECONDS, user_ids=set(self.queues),
            limit=POLL_BATCH)
        handed = 0
        for row in rows:
            self.last_id = max(self.last_id or 0, row.pk)
            if row.pk in self.seen:
                continue
            self.seen[row.pk] = None
            handed += 1
            for queue in list(self.queues.get(row.user_id, ())):
                queue.put_nowait(row)
        while len(self.seen) > self.SEEN_IDS:
            self.seen.popitem(last=False)
        if len(rows) == POLL_BATCH:
            self.wake.set()  # more are waiting
        return handed

    async def _listen_forever(self) -> None:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
            try:
                pubsub = client.pubsub()
                await pubsub.subscribe(channel_name())
                self.redis_connected = True
                log.info("upload events: listening on Redis %s", channel_name())
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - Redis away: poll on our own and reconnect later
                if self.redis_connected:
                    log.warning("upload events: Redis listener lost (%s); polling every %.2f s meanwhile", e,
                                float(settings.UPLOAD_EVENTS_POLL_SECONDS))
            finally:
                self.redis_connected = False
                await client.aclose()
            await asyncio.sleep(2.0)


#: One hub per event loop (uvicorn runs one loop per worker process; a test may run several).
_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, EventHub] = weakref.WeakKeyDictionary()


def hub() -> EventHub:
    """The hub of the running event loop, created (and its tasks started) on first use."""
    loop = asyncio.get_running_loop()
    center = _hubs.get(loop)
    if center is None:
        center = _hubs[loop] = EventHub()
        on_server_shutdown(center.close)
    center.start()
    return center
