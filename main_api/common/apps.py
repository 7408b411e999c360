from __future__ import annotations

from django.apps import AppConfig


class CommonConfig(AppConfig):
    """What every app builds on: errors, authentication, logging, metrics, the admin site.

    Imports nothing of ``media`` or ``users``; they plug into its hooks
    (:func:`main_api.common.metrics.database_collector_register`,
    :meth:`main_api.common.admin_site.AdminSite.operations_view_register`).
    """

    name = "main_api.common"
    label = "common"

    def ready(self) -> None:
        from main_api.common import (
            checks,  # noqa: F401 - registers the system checks
            schema,  # noqa: F401 - registers the OpenAPI auth extensions
        )
