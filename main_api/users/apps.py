from __future__ import annotations

from django.apps import AppConfig


class UsersConfig(AppConfig):
    """Users, their profiles and the profile fields that refer to uploads.

    The top of the dependency order: uses ``media`` (uploads, pending images) and ``common``;
    neither imports it. Plugs into media's hook here: when an upload fails, the references it
    set are given back (``services.failed_upload_references_restore``).
    """

    name = "main_api.users"
    label = "users"

    def ready(self) -> None:
        from main_api.media.services import pending_image_failure_handler_register
        from main_api.users.services import failed_upload_references_restore

        pending_image_failure_handler_register(failed_upload_references_restore)
