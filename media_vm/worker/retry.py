"""Exponential back-off: the one arithmetic of every wait after a failure (rq's ``retry.py``).

Its users, each with its own figures:

- a failed step of the checklist (``media_vm.worker.policy``): ``MAX_ATTEMPTS`` attempts, the
  n-th failure followed by ``RETRY_BASE_SECONDS`` x 2^(n-1) seconds, at most 300 s;
- an unreachable main API (the worker's polls): ``POLL_IDLE_SECONDS`` (at least 1 s)
  x 2^(n-1), at most ``POLL_ERROR_MAX_SECONDS``;
- a failed job of the seed's Redis worker (``media_vm.seed_redis_worker``): ``--max-retries``
  retries after the first attempt, the n-th one due ``--retry-delay`` x 2^(n-1) seconds after
  its failure, uncapped.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Retry:
    """At most ``max_attempts`` tries; the wait after the ``n``-th failure (1-based) is
    ``base_seconds * 2**(n-1)`` seconds, at most ``cap_seconds`` (``math.inf``: uncapped).
    Raises ValueError for ``max_attempts`` < 1 or a negative ``base_seconds`` or ``cap_seconds``."""

    max_attempts: int = 3
    base_seconds: float = 2.0
    cap_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_seconds < 0 or self.cap_seconds < 0:
            raise ValueError("retry intervals cannot be negative")

    def get_interval(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failure (1-based). Pure: no clock."""
        return min(self.cap_seconds, self.base_seconds * (2 ** max(0, attempt - 1)))

    def exhausted(self, attempt: int) -> bool:
        """Whether the ``attempt``-th try (1-based) was the last one allowed."""
        return attempt >= self.max_attempts
