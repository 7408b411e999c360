"""``GET /api/uploads/events``: the signed-in user's upload events as Server-Sent Events.

Each event is ``id: <event id>``, ``event: upload``, ``data: <the upload object as JSON>``; a
comment (``: keep-alive``) goes out every ``UPLOAD_EVENTS_KEEPALIVE_SECONDS`` (15) so that
proxies keep an idle stream open. A client that reconnects with ``Last-Event-ID`` (the
``EventSource`` does it by itself) is first sent every event of its user after that id (events
are kept ``UPLOAD_EVENT_RETENTION_HOURS``), then the live ones.

One :class:`EventHub` per main API process serves all its streams: one poller reads new events
of every user (``events.upload_events_after``) and hands each to the streams of its user, so an
open stream costs a queue on the event loop and no query of its own. Without Redis the poller
looks every ``UPLOAD_EVENTS_POLL_SECONDS`` (0.25); with ``REDIS_URL`` an announcement on the
events channel (``events.announce``, published by whichever process or host recorded the event)
wakes it at once, and its own interval is only the safety net for a Redis that is away.

The stream runs under ASGI (``python -m main_api serve``: uvicorn workers) as an async view:
an idle stream holds no thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET
from rest_framework.authtoken.models import Token

from main_api.common.exceptions import error_body
from main_api.media import events

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Events one poll reads at most (the next poll goes on from there at once).
POLL_BATCH = 500
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
    """The streams of one process and the one poller that feeds them (see the module doc).
    Lives on the event loop of the process; started by the first stream, idle (no query) while
    no stream is open."""

    def __init__(self) -> None:
        self.queues: dict[int, set[asyncio.Queue[Any]]] = defaultdict(set)
        self.last_id: int | None = None
        self.wake = asyncio.Event()
        self.redis_connected = False
        self._tasks: list[asyncio.Task[None]] = []

    def subscribe(self, user_id: int) -> asyncio.Queue[Any]:
        """A queue that receives every new event of ``user_id`` (``UploadEvent`` rows)."""
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

    async def start(self) -> None:
        """Start the poller (and the Redis listener, with ``REDIS_URL``) once."""
        if self._tasks:
            return
        self.last_id = await _in_thread(events.upload_events_last_id)()
        self._tasks.append(asyncio.ensure_future(self._poll_forever()))
        if getattr(settings, "REDIS_URL", ""):
            self._tasks.append(asyncio.ensure_future(self._listen_forever()))

    async def _poll_forever(self) -> None:
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
                await self.poll_once()
            except Exception:  # noqa: BLE001 - e.g. the database away for a moment: try again later
                log.exception("upload events: the poller failed; trying again")
                await asyncio.sleep(1.0)

    async def poll_once(self) -> int:
        """Hand every event newer than the last one seen to the queues of its user; the number read."""
        rows = await _in_thread(events.upload_events_after)(after=self.last_id or 0, limit=POLL_BATCH)
        for row in rows:
            for queue in list(self.queues.get(row.user_id, ())):
                queue.put_nowait(row)
            self.last_id = row.pk
        if len(rows) == POLL_BATCH:
            self.wake.set()  # more are waiting
        return len(rows)

    async def _listen_forever(self) -> None:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
            try:
                pubsub = client.pubsub()
                await pubsub.subscribe(events.channel_name())
                self.redis_connected = True
                log.info("upload events: listening on Redis %s", events.channel_name())
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


_hub: EventHub | None = None


def hub() -> EventHub:
    """This process's hub (one per event loop: uvicorn runs one loop per worker process)."""
    global _hub
    if _hub is None:
        _hub = EventHub()
    return _hub


async def stream_user(request: HttpRequest) -> int | None:
    """Who is asking: ``?ticket=`` (``POST /api/uploads/events/ticket``), else an
    ``Authorization: Token`` header, else the session cookie; None when nobody valid."""
    ticket = request.GET.get("ticket")
    if ticket is not None:
        return events.event_ticket_user(ticket)
    header = request.headers.get("Authorization", "")
    if header:
        keyword, _, key = header.partition(" ")
        if keyword != "Token" or not key.strip():
            return None
        token = await Token.objects.select_related("user").filter(key=key.strip()).afirst()
        return token.user_id if token is not None and token.user.is_active else None
    user = await request.auser()  # type: ignore[attr-defined]
    return int(user.pk) if user.is_authenticated else None


def format_event(row: Any) -> str:
    """One SSE message: ``id``, ``event: upload`` and the upload object as ``data``."""
    return f"id: {row.pk}\nevent: upload\ndata: {json.dumps(row.payload, separators=(',', ':'))}\n\n"


def _last_event_id(request: HttpRequest) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    try:
        return int(raw) if raw is not None and raw.strip() else None
    except ValueError:
        return None


@require_GET
async def upload_events(request: HttpRequest) -> HttpResponse:
    """``GET /api/uploads/events``: see the module doc. 401 JSON without a valid ticket, token
    or session (an expired ticket included: ask for a new one)."""
    user_id = await stream_user(request)
    if user_id is None:
        response = JsonResponse(error_body("a valid ticket, token or session is required",
                                           {"ticket": "POST /api/uploads/events/ticket"}), status=401)
        response["WWW-Authenticate"] = "Token"
        return response
    after = _last_event_id(request)
    center = hub()
    await center.start()
    queue = center.subscribe(user_id)  # before the replay: nothing falls between the two

    async def stream() -> AsyncIterator[str]:
        sent = after or 0
        try:
            yield f"retry: {RECONNECT_MS}\n: connected\n\n"
            if after is not None:
                while True:
                    missed = await _in_thread(events.upload_events_after)(after=sent, user_id=user_id, limit=POLL_BATCH)
                    for row in missed:
                        yield format_event(row)
                        sent = row.pk
                    if len(missed) < POLL_BATCH:
                        break
            keepalive = float(settings.UPLOAD_EVENTS_KEEPALIVE_SECONDS)
            while True:
                try:
                    row = await asyncio.wait_for(queue.get(), timeout=keepalive)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if row.pk <= sent:
                    continue  # already sent by the replay
                yield format_event(row)
                sent = row.pk
        finally:
            center.unsubscribe(user_id, queue)

    response = StreamingHttpResponse(stream(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response
