"""``python -m main_api errors``: every error message of the API, by resource and status."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from main_api.common.error_messages import errors_table


class Command(BaseCommand):
    help = (
        "Print every error message the API answers with, by resource and status, from the errors modules "
        "of the apps: what docs/reference/errors.md holds (python -m main_api errors > docs/reference/errors.md)."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(errors_table(), ending="")
