from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.core.management import call_command
from django.db.models.signals import post_migrate


def cache_tables_create(*, using: str = "default", verbosity: int = 1, **kwargs: Any) -> None:
    """After every ``migrate``: make the table of each database cache in ``CACHES`` that is
    missing (``createcachetable``; idempotent, nothing to do with Redis)."""
    call_command("createcachetable", database=using, verbosity=0 if verbosity < 2 else verbosity)


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
            lockout,
            schema,  # noqa: F401 - registers the OpenAPI auth extensions
        )

        # the upload budget lives in the cache: migrate (make run, compose, systemd, tests) makes its table
        post_migrate.connect(cache_tables_create, sender=self, dispatch_uid="main_api.common.cache_tables")
        user_logged_in.connect(lockout.success_reset, dispatch_uid="main_api.common.lockout.success_reset")
