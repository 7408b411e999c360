"""System checks of the whole service: the media key is configured.

(The image codecs are checked by the upload gate, ``main_api.media.intake.gate``.)
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def check_media_key(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Without ``MEDIA_API_KEY`` the media VM cannot call in."""
    if not settings.MEDIA_API_KEYS:
        return [
            checks.Warning(
                "MEDIA_API_KEY is not set: every /api/media/* call and media-key download will get 401.",
                id="main_api.W001",
            )
        ]
    return []
