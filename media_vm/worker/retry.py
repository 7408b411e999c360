"""Exponential backoff for failed steps and for an unreachable main API."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Retry:
    """``max_attempts`` tries; the wait after attempt ``n`` is ``base * 2**(n-1)``, capped."""

    max_attempts: int = 3
    base_seconds: float = 2.0
    cap_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_seconds < 0 or self.cap_seconds < 0:
            raise ValueError("retry intervals cannot be negative")

    def get_interval(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failure (1-based)."""
        return min(self.cap_seconds, self.base_seconds * (2 ** max(0, attempt - 1)))

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts
