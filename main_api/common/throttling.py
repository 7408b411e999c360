"""Per-user upload throttling with a rate read from settings at request time."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle


class UploadRateThrottle(ScopedRateThrottle):
    """``ScopedRateThrottle`` for the ``uploads`` scope, rate ``UPLOAD_THROTTLE_RATE``.

    DRF copies ``DEFAULT_THROTTLE_RATES`` into the class once at import; reading the
    setting here keeps it configurable (and overridable in tests).
    """

    def get_rate(self) -> str | None:
        return settings.UPLOAD_THROTTLE_RATE or None
