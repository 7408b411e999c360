from __future__ import annotations

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "main_api.common"
    label = "common"

    def ready(self) -> None:
        from django.conf import settings
        from PIL import Image

        from main_api.common import (
            checks,  # noqa: F401 - registers the system checks
            schema,  # noqa: F401 - registers the OpenAPI auth extensions
        )

        # Pillow's own decompression-bomb guard agrees with ours (it raises at twice the limit).
        Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS
