"""``python -m main_api sweep_failed [--older-than DAYS] [--dry-run]``: delete the temp originals
of uploads failed longer ago than their retention (``FAILED_RETENTION_DAYS``)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from main_api.media.selectors.maintenance import upload_ids_failed
from main_api.media.services.sweeps import failed_originals_sweep


class Command(BaseCommand):
    help = (
        "Delete the temp originals of uploads failed (and not retried) for longer than --older-than days: "
        "until then their owners can retry them (POST /api/uploads/{id}/retry)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=settings.FAILED_RETENTION_DAYS,
            metavar="DAYS",
            help="failed for longer than this (default: %(default)s, from FAILED_RETENTION_DAYS)",
        )
        parser.add_argument("--dry-run", action="store_true", help="only count the candidates")

    def handle(self, *args, older_than: int, dry_run: bool, **options) -> None:
        if older_than < 0:
            raise CommandError("--older-than must not be negative")
        ids = upload_ids_failed(older_than=timedelta(days=older_than))
        if dry_run:
            self.stdout.write(f"{len(ids)} upload(s) failed over {older_than} day(s) ago")
            return
        removed = failed_originals_sweep(image_ids=ids, older_than=timedelta(days=older_than))
        self.stdout.write(f"failed over {older_than} day(s) ago: {len(ids)}; originals deleted {removed}")
