"""The upload budget: ``UPLOAD_THROTTLE_RATE`` files per user, shared by every process and host.

DRF's throttles keep their history in Django's cache. The cache is shared (``CACHES`` in
settings: the database cache, or Redis when ``REDIS_URL`` is set), so every gunicorn process
of every host counts against the same budget, and a recycled process forgets nothing.

The budget counts files, not requests: a ``PATCH /users/me`` with six images costs six (a
PATCH without a file costs one). It is checked twice:

1. :meth:`UploadRateThrottle.allow_request` (DRF, before the body is read): a user whose
   budget is spent gets 429 at once, without the server reading a byte of the files.
2. :meth:`UploadRateThrottle.charge` (the view, once the files are known): a request that
   costs more than what is left is refused whole with 429 and ``Retry-After`` (the seconds
   until enough of the budget has come back for it); nothing of it is stored.

The check-and-charge runs under a per-user lock taken with ``cache.add`` (atomic on the
database cache, Redis and memcached), so concurrent requests on several processes cannot
both spend the last unit. If the cache does not answer (Redis down), uploads go through and
a warning is logged: an outage of the throttle's store must not stop uploads (fail open).
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from typing import Any

from django.conf import settings
from rest_framework.exceptions import Throttled
from rest_framework.throttling import ScopedRateThrottle

from main_api.common.client_address import client_address

logger = logging.getLogger(__name__)

#: Seconds a budget lock lives if its holder dies while holding it.
LOCK_TTL_SECONDS = 5
#: Seconds a request waits for the lock before it is refused (429, Retry-After 1).
LOCK_WAIT_SECONDS = 5.0


class UploadRateThrottle(ScopedRateThrottle):
    """``ScopedRateThrottle`` for the ``uploads`` scope, rate ``UPLOAD_THROTTLE_RATE`` (files
    per period, e.g. ``"60/min"``), keyed by the user's id.

    DRF copies ``DEFAULT_THROTTLE_RATES`` into the class once at import; reading the
    setting here keeps it configurable (and overridable in tests).
    """

    def get_rate(self) -> str | None:
        return settings.UPLOAD_THROTTLE_RATE or None

    def get_ident(self, request: Any) -> str:
        """The address a request without a user is counted by: the project's client address
        (:func:`main_api.common.client_address.client_address`), not DRF's, which believes any
        client's ``X-Forwarded-For``."""
        return client_address(request)

    def allow_request(self, request: Any, view: Any) -> bool:
        """False (429) when the user's budget is already spent; reads no request body."""
        self.scope = getattr(view, self.scope_attr, None)
        self.rate = self.get_rate()
        if not self.scope or self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.get_cache_key(request, view)
        try:
            self.history = self._live_history()
        except Exception:  # noqa: BLE001 - any failure of the cache store: fail open
            logger.warning("upload throttle: the cache did not answer; letting the upload through", exc_info=True)
            return True
        return len(self.history) < self.num_requests

    def wait(self) -> float | None:
        """Seconds until one unit of the budget comes back."""
        return self._wait_for(1)

    def charge(self, request: Any, view: Any, *, cost: int) -> None:
        """Spend ``cost`` units (files) of the user's budget, or raise ``Throttled`` (429).

        All or nothing: a request that costs more than what is left spends nothing.
        ``Throttled.wait`` is the seconds until ``cost`` units are free again; None when
        ``cost`` exceeds the whole budget (the request can never pass as it is).
        Fails open (logs a warning and returns) when the cache store does not answer.
        """
        self.scope = getattr(view, self.scope_attr, None)
        self.rate = self.get_rate()
        if not self.scope or self.rate is None:
            return
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if cost > self.num_requests:
            raise Throttled(detail=(f"This request has {cost} files; at most {self.num_requests} may be uploaded "
                                    f"per {self.duration} seconds. Send fewer files at a time."))
        self.key = self.get_cache_key(request, view)
        lock_key, token = f"{self.key}:lock", secrets.token_hex(8)
        try:
            if not self._lock(lock_key, token):
                raise Throttled(wait=1)
            try:
                self.history = self._live_history()
                if len(self.history) + cost > self.num_requests:
                    raise Throttled(wait=self._wait_for(cost))
                self.history[:0] = [self.now] * cost
                self.cache.set(self.key, self.history, self.duration)
            finally:
                if self.cache.get(lock_key) == token:
                    self.cache.delete(lock_key)
        except Throttled:
            raise
        except Exception:  # noqa: BLE001 - any failure of the cache store: fail open
            logger.warning("upload throttle: the cache did not answer; letting the upload through", exc_info=True)

    # -- inside ------------------------------------------------------------------------------

    def _live_history(self) -> list[float]:
        """The user's charges (timestamps, newest first) still inside the period."""
        self.now = self.timer()
        return [t for t in self.cache.get(self.key, []) if t > self.now - self.duration]

    def _wait_for(self, cost: int) -> float | None:
        """Seconds until ``cost`` more units fit, from ``self.history``; None if they never can."""
        if cost > self.num_requests:
            return None
        excess = len(self.history) + cost - self.num_requests
        if excess <= 0:
            return 0.0
        # the excess oldest charges have to expire
        return max(0.0, math.ceil(self.history[-excess] + self.duration - self.now))

    def _lock(self, lock_key: str, token: str) -> bool:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while not self.cache.add(lock_key, token, LOCK_TTL_SECONDS):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True
