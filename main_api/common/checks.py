"""System checks: the image codecs load, and the media key is configured."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from PIL import features


@checks.register(checks.Tags.compatibility)
def check_image_codecs(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Pillow must decode every type the upload accepts by content (HEIF excepted)."""
    missing = [codec for codec in ("jpg", "zlib", "webp", "avif", "libtiff") if not features.check(codec)]
    if missing:
        return [
            checks.Error(
                f"Pillow lacks the codecs {', '.join(missing)}; uploads of those types would be refused.",
                hint="Install a Pillow wheel built with them (pip install --force-reinstall pillow).",
                id="main_api.E001",
            )
        ]
    return []


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
