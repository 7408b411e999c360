"""``python -m main_api reprocess [--since DATE] [--user NAME] [--data-type T]``."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from main_api.common.exceptions import ApplicationError
from main_api.common.progress import add_progress_argument, progress_bar
from main_api.media.models import Upload
from main_api.media.selectors.maintenance import reprocess_candidates
from main_api.media.services.reprocessing import upload_reprocess


def parse_since(value: str) -> datetime:
    """``YYYY-MM-DD`` (midnight UTC) or an ISO date-time (UTC unless it names a zone)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as e:
        raise CommandError(f"--since: not a date: {value!r} (use YYYY-MM-DD or an ISO date-time)") from e
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Queue finished images again for the media VM (e.g. after a pipeline upgrade). Each becomes a new "
        "pending upload of the same original; the current variants keep serving until the new ones take "
        "over the profile references. Images already re-processed are left out."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=parse_since, help="uploaded on or after this date (YYYY-MM-DD, UTC)")
        parser.add_argument("--user", dest="username", help="only this user's images (user name)")
        parser.add_argument("--data-type", choices=Upload.DataTypes.values, help="only this data type")
        parser.add_argument("--all", action="store_true", help="needed to re-process everything (no filter)")
        parser.add_argument("--dry-run", action="store_true", help="only count what would be re-processed")
        add_progress_argument(parser)

    def handle(self, *args, since, username, data_type, all: bool, dry_run: bool, progress, **options) -> None:
        if since is None and username is None and data_type is None and not all:
            raise CommandError("give --since, --user or --data-type (or --all to re-process every image)")
        if username is not None and not get_user_model().objects.filter(username=username).exists():
            raise CommandError(f"no user named {username!r}")
        ids = list(
            reprocess_candidates(since=since, username=username, data_type=data_type).values_list("pk", flat=True)
        )
        if dry_run:
            self.stdout.write(f"{len(ids)} image(s) would be re-processed")
            return
        queued, refused = 0, []
        with progress_bar(self, total=len(ids), desc="reprocess", enabled=progress) as bar:
            for image_id in ids:
                try:
                    upload_reprocess(image_id=image_id)
                except ApplicationError as e:
                    refused.append(f"#{image_id}: {e.message}")
                else:
                    queued += 1
                bar.update(1)
        for line in refused:
            self.stderr.write(f"refused {line}")
        self.stdout.write(f"matched {len(ids)} image(s): queued {queued} for re-processing, refused {len(refused)}")
