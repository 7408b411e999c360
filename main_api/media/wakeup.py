"""Wake-ups for the media VM's idle workers on a Redis list (issue 18, the Redis transport).

With ``REDIS_URL`` set, every row put in the media VM's queue (a new upload, a retry, a
re-processing) pushes one wake-up onto the list ``MEDIA_WAKEUP_LIST`` (default
``media:wakeup``, the full key) once its transaction commits; an idle worker waits on that list
with ``BRPOP`` and polls ``GET /api/media/pending/all`` at once (``media_vm.wakeups``). A
wake-up carries nothing but the row id, for the logs: the database stays the queue and the
media DB the record of claims, so a lost wake-up only costs the worker's idle wait.

The list is bounded: ``LPUSH`` then ``LTRIM`` to the newest :data:`MAX_WAKEUPS` in one round
trip, so a system with no worker listening does not grow it. A rolled-back transaction pushes
nothing (``transaction.on_commit``). A Redis that does not answer within half a second is
logged as a warning and counted (``main_api_media_wakeups_total{outcome="failed"}``); the
upload is not affected and the workers find the row at their next poll. After a failure the
process leaves Redis alone for :data:`RETRY_AFTER_SECONDS` (a circuit breaker's open state):
the wake-ups meanwhile are counted as ``skipped``, so a Redis that hangs costs one request in
that time its half second, not every upload.

Not the seed's ``image:jobs``: that list's jobs belong to ``python -m media_vm redis-worker``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)

#: Most wake-ups the list keeps (the newest): more than enough to wake every worker of a
#: deployment, few enough that workers started after a long stop poll only that many times.
MAX_WAKEUPS = 100

#: Seconds a failed push keeps this process from trying Redis again (per URL).
RETRY_AFTER_SECONDS = 5.0

_lock = threading.Lock()
_clients: dict[str, Any] = {}
#: URL -> time.monotonic() before which pushes are skipped
_down_until: dict[str, float] = {}


def _client(url: str) -> Any:
    """One sync Redis client per process and URL, with short timeouts: a Redis that hangs must
    not hold up the request that queued the row (it runs after the commit, in that request)."""
    with _lock:
        client = _clients.get(url)
        if client is None:
            import redis

            client = _clients[url] = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return client


def media_wakeup_push(*, image_id: int | None = None) -> bool:
    """Push one wake-up (``image_id`` as its value, or ``"0"``) onto ``MEDIA_WAKEUP_LIST`` now;
    True when Redis took it, False without ``REDIS_URL``, when Redis failed (logged as a
    warning and counted in ``main_api_media_wakeups_total``; never raised) and for
    :data:`RETRY_AFTER_SECONDS` after a failure (counted as ``skipped``, not tried)."""
    from main_api.media.metrics import WAKEUPS

    url = getattr(settings, "REDIS_URL", "") or ""
    if not url:
        return False
    if time.monotonic() < _down_until.get(url, 0.0):
        WAKEUPS.labels(outcome="skipped").inc()
        return False
    key = settings.MEDIA_WAKEUP_LIST
    try:
        pipe = _client(url).pipeline(transaction=False)
        pipe.lpush(key, str(image_id or 0))
        pipe.ltrim(key, 0, MAX_WAKEUPS - 1)
        pipe.execute()
    except Exception as e:  # noqa: BLE001 - any Redis failure: the workers' own polls find the row
        WAKEUPS.labels(outcome="failed").inc()
        _down_until[url] = time.monotonic() + RETRY_AFTER_SECONDS
        log.warning("media wake-up for upload %s not pushed to Redis (%s); the media VM finds it at its next poll; "
                    "Redis is tried again in %.0f s", image_id, e, RETRY_AFTER_SECONDS)
        return False
    _down_until.pop(url, None)
    WAKEUPS.labels(outcome="pushed").inc()
    return True


def media_wakeup_on_commit(*, image_id: int) -> None:
    """Have :func:`media_wakeup_push` run for ``image_id`` once the current transaction commits
    (at once outside one); nothing at all if it rolls back or ``REDIS_URL`` is unset."""
    if getattr(settings, "REDIS_URL", ""):
        transaction.on_commit(lambda: media_wakeup_push(image_id=image_id))
