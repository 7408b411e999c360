from __future__ import annotations

from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "main_api.users"
    label = "users"
