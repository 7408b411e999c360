"""``GET /api/uploads/events``: the signed-in user's upload events as Server-Sent Events.

Each event is ``id: <event id>``, ``event: upload``, ``data: <the upload object as JSON>``; a
comment (``: keep-alive``) goes out every ``UPLOAD_EVENTS_KEEPALIVE_SECONDS`` (15) so that
proxies keep an idle stream open. A client that reconnects with ``Last-Event-ID`` (the
``EventSource`` does it by itself) is first sent every event of its user after that id (events
are kept ``UPLOAD_EVENT_RETENTION_HOURS``), then the live ones. ``?last_event_id=`` says the same
for a client that cannot set the header. A ``Last-Event-ID`` above the newest event (a database
restored from a backup, whose ids went back) starts the stream at the newest event, so the events
recorded from then on arrive; one that is not a decimal number is a 400 naming it.

One :class:`EventHub` per main API process serves all its streams: one poller reads new events
of every user (``upload_events_after``) and hands each to the streams of its user, so an
open stream costs a queue on the event loop and no query of its own. Without Redis the poller
looks every ``UPLOAD_EVENTS_POLL_SECONDS`` (0.25); with ``REDIS_URL`` an announcement on the
events channel (``announce``, published by whichever process or host recorded the event)
wakes it at once, and its own interval is only the safety net for a Redis that is away.

The stream runs under ASGI (``python -m main_api serve``: uvicorn workers) as an async view.
An open stream holds no database connection (its lookups run in the loop's shared executor and
whatever its own thread opened is closed before it starts streaming); Django still keeps one
idle thread per ASGI request for its sync parts, so each stream costs a socket, a queue and an
idle thread. ``UPLOAD_EVENTS_MAX_STREAMS`` (20) bounds one user's open streams in all processes
and hosts together: each holds a lease on one of the user's slots in the shared cache
(``main_api.media.live.stream_slots``), renewed by the hub's poller and released when it ends.
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from rest_framework.authtoken.models import Token

from main_api.common.exceptions import error_body
from main_api.common.serving import on_server_shutdown
from main_api.common.views import read_only_view
from main_api.media.live.records import (
    active_user_ids,
    channel_name,
    upload_events_after,
    upload_events_last_id,
    upload_events_recent,
)
from main_api.media.live.stream_slots import (
    NoFreeSlot,
    StreamSlot,
    stream_slot_release,
    stream_slot_take,
    stream_slots_renew,
)
from main_api.media.live.tickets import event_ticket_active_user
from main_api.media.upload_object import upload_json

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Events one poll reads at most (the next poll goes on from there at once).
POLL_BATCH = 500
#: Seconds between two checks that the users of the open streams still have an active account.
USER_CHECK_SECONDS = 15.0
#: The ``retry:`` (ms) an ``EventSource`` waits before reconnecting after a drop.
RECONNECT_MS = 2000


def _in_thread(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """``func`` run in an executor thread, its database connection first checked (Django's
    ``close_old_connections``: one past ``CONN_MAX_AGE`` or broken, e.g. after MariaDB's
    ``wait_timeout``, is closed and opened again), as no request cycle does it in these threads."""

    def run(*args: Any, **kwargs: Any) -> T:
        close_old_connections()
        return func(*args, **kwargs)

    return sync_to_async(run, thread_sensitive=False)


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
        alive = await _in_thread(active_user_ids)(subscribed)
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
            self.last_id = await _in_thread(upload_events_last_id)()
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
            future = asyncio.ensure_future(_in_thread(stream_slot_release)(slot))
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
        return await _in_thread(stream_slots_renew)(list(self.slots), lease_seconds=_lease_seconds())

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
        next_renewal = loop.time() + _lease_seconds() / 3
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
                    next_renewal = loop.time() + _lease_seconds() / 3
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
        rows = await _in_thread(upload_events_recent)(
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


def _user_of_token(key: str) -> int | None:
    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user_id if token is not None and token.user.is_active else None


def _user_of_session(request: HttpRequest) -> int | None:
    from django.contrib.auth import get_user

    user = get_user(request)  # type: ignore[arg-type]
    return int(user.pk) if user.is_authenticated and user.is_active else None


async def stream_user(request: HttpRequest) -> int | None:
    """Who is asking: ``?ticket=`` (``POST /api/uploads/events/ticket``), else an
    ``Authorization: Token`` (or ``Bearer``) header with a user's token, else the session
    cookie; None when nobody valid (an inactive user included). The lookups run in the shared
    executor, so the stream's own thread never opens a database connection it would keep."""
    ticket = request.GET.get("ticket")
    if ticket is not None:
        return await _in_thread(event_ticket_active_user)(ticket)
    header = request.headers.get("Authorization", "")
    if header:
        keyword, _, key = header.partition(" ")
        if keyword.lower() not in ("token", "bearer") or not key.strip():
            return None
        return await _in_thread(_user_of_token)(key.strip())
    return await _in_thread(_user_of_session)(request)


def format_event(row: Any) -> str:
    """One SSE message: ``id``, ``event: upload`` and, as ``data``, the upload object of the
    event rendered by ``upload_object.upload_json``: byte for byte the body ``GET
    /api/uploads/{id}`` answered for the same state."""
    # the hub hands one row to every stream of its user: rendered once, kept on the row
    text = getattr(row, "_sse_text", None)
    if text is None:
        text = row._sse_text = f"id: {row.pk}\nevent: upload\ndata: {upload_json(row.payload).decode()}\n\n"
    return text


def _lease_seconds() -> float:
    return float(settings.UPLOAD_EVENTS_STREAM_LEASE_SECONDS)


#: A ``Last-Event-ID``: a decimal number (an event id), spaces around it allowed.
_EVENT_ID = re.compile(r"\s*([0-9]+)\s*")
#: Above any id a row can have (a signed 64-bit ``BigAutoField``): a longer number is clamped to it.
_ABOVE_ANY_ID = 2**63


class BadLastEventId(ValueError):
    """A ``Last-Event-ID`` (or ``?last_event_id=``) that is not a decimal number; ``name`` is
    the one the client sent."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} must be a decimal number: the id of the last event received")
        self.name = name


def last_event_id(request: HttpRequest) -> int | None:
    """The id the client says it has: the ``Last-Event-ID`` header, else ``?last_event_id=``
    (for clients that cannot set it); None when neither is given (or empty). A number past any
    event id is :data:`_ABOVE_ANY_ID` (the stream clamps it to the newest event); anything but a
    decimal number raises :class:`BadLastEventId`."""
    name, raw = "Last-Event-ID", request.headers.get("Last-Event-ID")
    if raw is None or not raw.strip():
        name, raw = "last_event_id", request.GET.get("last_event_id")
    if raw is None or not raw.strip():
        return None
    match = _EVENT_ID.fullmatch(raw)
    if match is None:
        raise BadLastEventId(name)
    digits = match.group(1).lstrip("0") or "0"
    return int(digits) if len(digits) <= 19 else _ABOVE_ANY_ID


@read_only_view  # another method: a JSON 405, not Django's HTML CSRF page
async def upload_events(request: HttpRequest) -> HttpResponse:
    """``GET /api/uploads/events``: see the module doc. 401 JSON without a valid ticket, token
    or session (an expired ticket included: ask for a new one); 400 for a ``Last-Event-ID``
    (or ``?last_event_id=``) that is not a decimal number, ``extra.fields`` naming it; 429 past
    ``UPLOAD_EVENTS_MAX_STREAMS`` open streams of one user, in all processes and hosts."""
    user_id = await stream_user(request)
    # whatever the middleware opened in this request's own thread is not kept for the stream's life
    await sync_to_async(connections.close_all)()
    if user_id is None:
        response = JsonResponse(error_body("a valid ticket, token or session is required",
                                           {"ticket": "POST /api/uploads/events/ticket"}), status=401)
        response["WWW-Authenticate"] = "Token"
        return response
    try:
        after = last_event_id(request)
    except BadLastEventId as e:
        return JsonResponse(error_body(str(e), {"fields": {e.name: [str(e)]}}), status=400)
    if after is not None:
        # above the newest event (a restored database): from the newest on, not silence. Read
        # before subscribing, so that an event recorded in between has a higher id and is sent.
        after = min(after, await _in_thread(upload_events_last_id)())
    center = hub()
    limit = int(settings.UPLOAD_EVENTS_MAX_STREAMS)
    try:
        slot = await _in_thread(stream_slot_take)(user_id=user_id, limit=limit, lease_seconds=_lease_seconds())
    except NoFreeSlot:
        return JsonResponse(error_body("too many open event streams", {"max_streams": limit}), status=429)
    center.hold(slot)
    try:
        queue = await center.subscribe(user_id)  # before the replay: nothing falls between the two
    except BaseException:
        center.release(slot)
        raise

    async def stream() -> AsyncIterator[str]:
        sent: OrderedDict[int, None] = OrderedDict()  # ids sent, to skip repeats (replay, look-back)

        def mark(row: Any) -> bool:
            if row.pk in sent or (after is not None and row.pk <= after):
                return False  # sent already, or the client said it has it (Last-Event-ID)
            sent[row.pk] = None
            while len(sent) > EventHub.SEEN_IDS:
                sent.popitem(last=False)
            return True

        try:
            yield f"retry: {RECONNECT_MS}\n: connected\n\n"
            if after is not None:
                cursor = after
                while True:
                    missed = await _in_thread(upload_events_after)(after=cursor, user_id=user_id,
                                                                         limit=POLL_BATCH)
                    for row in missed:
                        if mark(row):
                            yield format_event(row)
                        cursor = row.pk
                    if len(missed) < POLL_BATCH:
                        break
            keepalive = float(settings.UPLOAD_EVENTS_KEEPALIVE_SECONDS)
            while True:
                try:
                    row = await asyncio.wait_for(queue.get(), timeout=keepalive)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if row is None:  # the server is shutting down: the client reconnects elsewhere
                    return
                if mark(row):
                    yield format_event(row)
        finally:
            center.end_stream(user_id, queue, slot)

    events = stream()
    # a response dropped before it is iterated (the client gone at once) never runs the finally
    weakref.finalize(events, center.end_stream, user_id, queue, slot)
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response
