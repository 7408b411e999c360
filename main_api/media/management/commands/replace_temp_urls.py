"""``python -m main_api replace_temp_urls``: one run of the URL replacement, now the sweeper of
uploads left ``processed`` (a completion completes its upload at once)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from main_api.common.progress import add_progress_argument, progress_bar
from main_api.media.selectors.dashboard import upload_counts
from main_api.media.services.sweeps import uploads_processed_complete


class Command(BaseCommand):
    help = (
        "Complete every upload still 'processed' (left by a crash or an older version: a completion "
        "completes its upload at once), rewriting every reference to its temp path to its smart URL. "
        "Safe to run while another run is going."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="rows read per query (default: %(default)s)"
        )
        add_progress_argument(parser)

    def handle(self, *args, batch_size: int, progress: bool | None, **options) -> None:
        # The total is what is processed now; rows processed during the run are done too.
        total = upload_counts()["processed"]
        with progress_bar(self, total=total, desc="replace_temp_urls", enabled=progress) as bar:
            result = uploads_processed_complete(batch_size=batch_size, progress=lambda _rewritten: bar.update(1))
        self.stdout.write(
            f"completed {result.completed} image(s), rewrote {result.references} reference(s), "
            f"skipped {result.skipped} held by another run"
        )
