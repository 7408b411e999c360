"""The cap on one user's open event streams (``UPLOAD_EVENTS_MAX_STREAMS``), in all processes
and hosts together.

A user has ``UPLOAD_EVENTS_MAX_STREAMS`` slots in the shared cache: Django's default cache, the
store the upload budget already counts in (``main_api.common.throttling``: the main database's
``django_cache``, or Redis with ``REDIS_URL``). An open stream holds one slot as a lease: the key
``upload-streams:<user id>:<slot>`` holding a random token, taken with ``cache.add`` (atomic on
the database cache, Redis and memcached, so two processes never take the same slot) and living
``UPLOAD_EVENTS_STREAM_LEASE_SECONDS`` (60). The process renews the leases of its open streams
every third of that (``EventHub``'s poller) and releases a stream's lease when the stream ends,
whatever ends it (the client gone, the account erased, a shutdown); a process that dies without
releasing leaves leases that lapse within the lease time, never a slot lost for good.

With a cache of its own per process (``LocMemCache``) the cap would hold per process; the
settings never configure one. A cache that does not answer lets the stream open (a warning is
logged, the stream holds no slot), as the upload budget lets uploads through: an outage of the
cache must not cut users off their progress.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from django.core.cache import cache

log = logging.getLogger(__name__)

#: The cache key of a user's slots: ``upload-streams:<user id>:<slot>`` (under ``CACHE_KEY_PREFIX``).
KEY = "upload-streams:{user_id}:{slot}"


@dataclass(frozen=True)
class StreamSlot:
    """One stream's lease: the slot's cache key and the token that says the lease is ours."""

    key: str
    token: str


class NoFreeSlot(Exception):
    """Every one of the user's slots is held by an open stream (the stream answers 429)."""


def stream_slot_take(*, user_id: int, limit: int, lease_seconds: float) -> StreamSlot | None:
    """Take a free one of ``user_id``'s ``limit`` slots for ``lease_seconds``; raises
    :class:`NoFreeSlot` when all are held. None when the cache does not answer (logged): the
    stream opens without a slot."""
    token = secrets.token_hex(8)
    timeout = max(1, round(lease_seconds))
    try:
        for slot in range(limit):
            key = KEY.format(user_id=user_id, slot=slot)
            if cache.add(key, token, timeout):
                return StreamSlot(key, token)
    except Exception:  # noqa: BLE001 - any failure of the cache store: fail open
        log.warning("event streams: the cache did not answer; opening user %s's stream without a slot", user_id,
                    exc_info=True)
        return None
    raise NoFreeSlot(user_id)


def stream_slots_renew(slots: list[StreamSlot], *, lease_seconds: float) -> int:
    """Renew the leases of ``slots`` (the open streams of this process) for ``lease_seconds``
    more; a lease that lapsed meanwhile (the process stalled) is taken again if its slot is
    still free. The number renewed; a cache that does not answer renews none (logged)."""
    timeout = max(1, round(lease_seconds))
    renewed = 0
    try:
        for slot in slots:
            if cache.get(slot.key) == slot.token:
                renewed += bool(cache.touch(slot.key, timeout))
            else:
                renewed += bool(cache.add(slot.key, slot.token, timeout))
    except Exception:  # noqa: BLE001 - the cache away: the leases lapse unless it is back in time
        log.warning("event streams: the cache did not answer; %s lease(s) not renewed", len(slots) - renewed,
                    exc_info=True)
    return renewed


def stream_slot_release(slot: StreamSlot) -> bool:
    """Give the slot back (its stream ended), unless its lease lapsed and another stream took
    it since; True when released. A cache that does not answer is logged: the lease lapses."""
    try:
        if cache.get(slot.key) == slot.token:
            cache.delete(slot.key)
            return True
    except Exception:  # noqa: BLE001 - the lease lapses on its own
        log.warning("event streams: the cache did not answer; slot %s lapses on its own", slot.key, exc_info=True)
    return False
