"""``python -m main_api replace_temp_urls``: one run of the URL replacement."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from main_api.media.services import temp_urls_replace


class Command(BaseCommand):
    help = (
        "Rewrite every profile reference to a processed image's temp path to its smart URL and "
        "move the image to 'complete'. Safe to run while another run is going."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="rows read per query (default: %(default)s)"
        )

    def handle(self, *args, batch_size: int, **options) -> None:
        result = temp_urls_replace(batch_size=batch_size)
        self.stdout.write(
            f"completed {result.completed} image(s), rewrote {result.references} reference(s), "
            f"skipped {result.skipped} held by another run"
        )
