from __future__ import annotations

from django.apps import AppConfig


class UsersConfig(AppConfig):
    """Users, their profiles and the profile fields that refer to uploads.

    The top of the dependency order: uses ``media`` (uploads) and ``common``;
    neither imports it. Connects to media's upload events here (``main_api.media.domain_events``):
    when an upload fails, the references it set are given back, and taken again when it is
    retried; when it completes, they are rewritten to its smart URL; when it is deleted, every
    field that points at it is cleared. Installs media's location policy: whether a user keeps
    the GPS position of their photos (the profile's ``keep_location``).
    """

    name = "main_api.users"
    label = "users"

    def ready(self) -> None:
        from main_api.media.domain_events import UPLOAD_COMPLETED, UPLOAD_DELETED, UPLOAD_FAILED, UPLOAD_RETRIED
        from main_api.media.services.lifecycle import location_policy_install
        from main_api.users.selectors import user_keeps_location
        from main_api.users.services import (
            completed_upload_references_follow,
            deleted_upload_references_clear,
            failed_upload_references_restore,
            retried_upload_references_reapply,
        )

        UPLOAD_FAILED.connect(failed_upload_references_restore)
        UPLOAD_RETRIED.connect(retried_upload_references_reapply)
        UPLOAD_COMPLETED.connect(completed_upload_references_follow)
        UPLOAD_DELETED.connect(deleted_upload_references_clear)
        location_policy_install(user_keeps_location)
