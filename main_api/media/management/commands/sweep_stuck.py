"""``python -m main_api sweep_stuck [--older-than MINUTES] [--fail]``: deal with stuck uploads."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser

from main_api.common.progress import add_progress_argument, progress_bar
from main_api.media.selectors.dashboard import STUCK_AFTER, uploads_stuck
from main_api.media.services.sweeps import uploads_stuck_sweep


class Command(BaseCommand):
    help = (
        "Find pending images untouched for longer than --older-than minutes and re-queue them "
        "(they stay pending with their clock restarted; one whose temp original is gone is failed), "
        "or with --fail mark them failed (their temp files are kept FAILED_RETENTION_DAYS for a retry)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=int(STUCK_AFTER.total_seconds() // 60),
            metavar="MINUTES",
            help="pending for longer than this counts as stuck (default: %(default)s)",
        )
        parser.add_argument("--fail", action="store_true", help="fail and clean up instead of re-queueing")
        parser.add_argument("--dry-run", action="store_true", help="only list what is stuck")
        add_progress_argument(parser)

    def handle(self, *args, older_than: int, fail: bool, dry_run: bool, progress: bool | None, **options) -> None:
        if older_than < 1:
            raise CommandError("--older-than must be at least 1 minute")
        age = timedelta(minutes=older_than)
        ids = list(uploads_stuck(older_than=age).values_list("pk", flat=True))
        if dry_run:
            for image_id in ids:
                self.stdout.write(f"#{image_id}")
            self.stdout.write(f"{len(ids)} image(s) pending for over {older_than} minute(s)")
            return
        with progress_bar(self, total=len(ids), desc="sweep_stuck", enabled=progress) as bar:
            result = uploads_stuck_sweep(
                image_ids=ids, older_than=age, fail=fail, progress=lambda _outcome: bar.update(1)
            )
        self.stdout.write(
            f"stuck over {older_than} minute(s): {len(ids)}; re-queued {result.requeued}, "
            f"failed {result.failed}, skipped {result.skipped} (moved on meanwhile)"
        )
