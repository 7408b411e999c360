from __future__ import annotations

from django.apps import AppConfig


class UsersConfig(AppConfig):
    """Users, their profiles and the profile fields that refer to uploads.

    The top of the dependency order: uses ``media`` (uploads, pending images) and ``common``;
    neither imports it. Plugs into media's hook here: when an upload fails, the references it
    set are given back (``services.failed_upload_references_restore``), and taken again when it is
    retried (``services.retried_upload_references_reapply``); when it is deleted, every field
    that points at it is cleared (``services.deleted_upload_references_clear``). Tells media
    whether a user keeps the GPS position of their photos (the profile's ``keep_location``).
    """

    name = "main_api.users"
    label = "users"

    def ready(self) -> None:
        from main_api.media.services.deletion import upload_deletion_handler_register
        from main_api.media.services.lifecycle import (
            upload_failure_handler_register,
            upload_retry_handler_register,
        )
        from main_api.users.services import (
            deleted_upload_references_clear,
            failed_upload_references_restore,
            retried_upload_references_reapply,
        )

        upload_failure_handler_register(failed_upload_references_restore)
        upload_retry_handler_register(retried_upload_references_reapply)
        upload_deletion_handler_register(deleted_upload_references_clear)

        from main_api.media.services.lifecycle import location_policy_register
        from main_api.users.models import UserProfile

        location_policy_register(
            lambda user_id: UserProfile.objects.filter(user_id=user_id, keep_location=True).exists()
        )
