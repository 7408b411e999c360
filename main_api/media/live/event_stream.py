"""``GET /api/uploads/events``: the signed-in user's upload events as Server-Sent Events.

Each event is ``id: <event id>``, ``event: upload``, ``data: <the upload object as JSON>``; a
comment (``: keep-alive``) goes out every ``UPLOAD_EVENTS_KEEPALIVE_SECONDS`` (15) so that
proxies keep an idle stream open. A client that reconnects with ``Last-Event-ID`` (the
``EventSource`` does it by itself) is first sent every event of its user after that id (events
are kept ``UPLOAD_EVENT_RETENTION_HOURS``), then the live ones. ``?last_event_id=`` says the same
for a client that cannot set the header. A stream without either starts at its connection: only
the events recorded after it are sent (not those of the poller's look-back from before it; an event
whose id was given before the connection but committed after it is not sent either, which is rare
and only a state the next event repeats). A ``Last-Event-ID`` above the newest event (a database
restored from a backup, whose ids went back) starts the stream at the newest event, so the events
recorded from then on arrive; one that is not a decimal number is a 400 naming it.

One :class:`~main_api.media.live.hub.EventHub` per main API process (``live/hub.py``) reads new
events for all of its streams and hands each to the streams of its user.

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
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from rest_framework.authtoken.models import Token

from main_api.common.exceptions import error_body
from main_api.common.views import read_only_view
from main_api.media.errors import EVENTS_BAD_LAST_EVENT_ID, EVENTS_TOO_MANY, EVENTS_UNAUTHENTICATED
from main_api.media.live.hub import POLL_BATCH, EventHub, hub, in_thread, lease_seconds
from main_api.media.live.records import upload_events_after, upload_events_last_id
from main_api.media.live.stream_slots import NoFreeSlot, stream_slot_take
from main_api.media.live.tickets import event_ticket_active_user
from main_api.media.upload_object import upload_json

log = logging.getLogger(__name__)

#: The ``retry:`` (ms) an ``EventSource`` waits before reconnecting after a drop.
RECONNECT_MS = 2000


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
        return await in_thread(event_ticket_active_user)(ticket)
    header = request.headers.get("Authorization", "")
    if header:
        keyword, _, key = header.partition(" ")
        if keyword.lower() not in ("token", "bearer") or not key.strip():
            return None
        return await in_thread(_user_of_token)(key.strip())
    return await in_thread(_user_of_session)(request)


def format_event(row: Any) -> str:
    """One SSE message: ``id``, ``event: upload`` and, as ``data``, the upload object of the
    event rendered by ``upload_object.upload_json``: byte for byte the body ``GET
    /api/uploads/{id}`` answered for the same state."""
    # the hub hands one row to every stream of its user: rendered once, kept on the row
    text = getattr(row, "_sse_text", None)
    if text is None:
        text = row._sse_text = f"id: {row.pk}\nevent: upload\ndata: {upload_json(row.payload).decode()}\n\n"
    return text


#: A ``Last-Event-ID``: a decimal number (an event id), spaces around it allowed.
_EVENT_ID = re.compile(r"\s*([0-9]+)\s*")
#: Above any id a row can have (a signed 64-bit ``BigAutoField``): a longer number is clamped to it.
_ABOVE_ANY_ID = 2**63


class BadLastEventId(ValueError):
    """A ``Last-Event-ID`` (or ``?last_event_id=``) that is not a decimal number; ``name`` is
    the one the client sent."""

    def __init__(self, name: str) -> None:
        super().__init__(EVENTS_BAD_LAST_EVENT_ID.message.format(name=name))
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
        response = JsonResponse(error_body(EVENTS_UNAUTHENTICATED.message,
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
        after = min(after, await in_thread(upload_events_last_id)())
    center = hub()
    limit = int(settings.UPLOAD_EVENTS_MAX_STREAMS)
    try:
        slot = await in_thread(stream_slot_take)(user_id=user_id, limit=limit, lease_seconds=lease_seconds())
    except NoFreeSlot:
        return JsonResponse(error_body(EVENTS_TOO_MANY.message, {"max_streams": limit}), status=429)
    center.hold(slot)
    replay = after is not None
    try:
        queue = await center.subscribe(user_id)  # before the replay: nothing falls between the two
    except BaseException:
        center.release(slot)
        raise
    if after is None:
        # A fresh stream starts at its connection: the queue also gets the events of the hub's
        # look-back (there for commits out of id order), which may be from before it connected.
        # Read after subscribing, so that every event committed from now on is in the queue.
        try:
            after = await in_thread(upload_events_last_id)()
        except BaseException:
            center.end_stream(user_id, queue, slot)
            raise
    start: int = after  # the stream sends only events above it

    async def stream() -> AsyncIterator[str]:
        sent: OrderedDict[int, None] = OrderedDict()  # ids sent, to skip repeats (replay, look-back)

        def mark(row: Any) -> bool:
            if row.pk in sent or row.pk <= start:
                return False  # sent already, the client said it has it (Last-Event-ID), or from before it came
            sent[row.pk] = None
            while len(sent) > EventHub.SEEN_IDS:
                sent.popitem(last=False)
            return True

        try:
            yield f"retry: {RECONNECT_MS}\n: connected\n\n"
            if replay:
                cursor = start
                while True:
                    missed = await in_thread(upload_events_after)(after=cursor, user_id=user_id,
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
