"""``python -m main_api upload_events``: the table of the upload's domain events and what runs."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from main_api.media.domain_events import events_table


class Command(BaseCommand):
    help = (
        "Print the upload events (failed, retried, completed, deleted), their payload types and the "
        "functions connected to each, in the order they run: what docs/upload-events.md holds."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(events_table(), ending="")
