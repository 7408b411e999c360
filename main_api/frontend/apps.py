from __future__ import annotations

from django.apps import AppConfig


class FrontendConfig(AppConfig):
    """The top layer: it may import ``media`` and ``users``; nothing imports it."""

    name = "main_api.frontend"
    label = "frontend"
    verbose_name = "Frontend kit and demo site"
