"""``python -m main_api sweep_direct_uploads [--dry-run]``: delete the direct uploads (rows and
their objects in the temp storage) expired over an hour ago, taken or not."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from main_api.media.intake.direct_uploads import SWEEP_GRACE, direct_uploads_sweep, expired_direct_upload_ids


class Command(BaseCommand):
    help = (
        f"Delete the direct uploads expired over {SWEEP_GRACE} ago, and their objects in the temp storage "
        "(a direct upload nobody took is never processed)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="only count the candidates")

    def handle(self, *args, dry_run: bool, **options) -> None:
        if dry_run:
            self.stdout.write(f"{len(expired_direct_upload_ids())} direct upload(s) expired")
            return
        self.stdout.write(f"deleted {direct_uploads_sweep()} expired direct upload(s)")
