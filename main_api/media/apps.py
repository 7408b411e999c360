from __future__ import annotations

from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "main_api.media"
    label = "media"
    verbose_name = "Media"
