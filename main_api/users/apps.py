from __future__ import annotations

from django.apps import AppConfig


class UsersConfig(AppConfig):
    """Users, their profiles and the profile fields that refer to uploads.

    The top of the dependency order: uses ``media`` (uploads, pending images) and ``common``;
    neither imports it.
    """

    name = "main_api.users"
    label = "users"
