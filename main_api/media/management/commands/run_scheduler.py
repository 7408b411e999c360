"""``python -m main_api run_scheduler``: the URL replacement (the sweeper of uploads left
``processed``) every few minutes, and every hour the
sweep of failed uploads' originals past ``FAILED_RETENTION_DAYS`` and of upload events past
``UPLOAD_EVENT_RETENTION_HOURS``, in the foreground."""

from __future__ import annotations

import logging
import signal
from datetime import datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from main_api.media.intake.direct_uploads import direct_uploads_sweep
from main_api.media.live.records import upload_events_sweep
from main_api.media.selectors.maintenance import upload_ids_failed
from main_api.media.services.sweeps import ReplaceResult, failed_originals_sweep, uploads_processed_complete

log = logging.getLogger(__name__)


def replace_job() -> ReplaceResult:
    """One scheduled run, with fresh database connections (the process lives for weeks)."""
    close_old_connections()
    try:
        result = uploads_processed_complete()
        if result.completed or result.skipped:
            log.info(
                "replace_temp_urls: completed %s, references %s, skipped %s",
                result.completed,
                result.references,
                result.skipped,
            )
        return result
    finally:
        close_old_connections()


#: Seconds between two sweeps of expired failed originals.
FAILED_SWEEP_INTERVAL_SECONDS = 3600


def failed_sweep() -> int:
    """Delete the originals of uploads failed over ``FAILED_RETENTION_DAYS`` ago (the
    ``sweep_failed`` command's work); the number deleted."""
    age = timedelta(days=settings.FAILED_RETENTION_DAYS)
    removed = failed_originals_sweep(image_ids=upload_ids_failed(older_than=age), older_than=age)
    if removed:
        log.info("sweep_failed: %s failed upload original(s) deleted", removed)
    return removed


def failed_sweep_job() -> int:
    """:func:`failed_sweep`, :func:`events_sweep` and the sweep of direct uploads nobody used
    (``direct_uploads_sweep``) as a scheduled run, with fresh database connections; the number
    of originals deleted."""
    close_old_connections()
    try:
        events_sweep()
        direct_uploads_sweep()
        return failed_sweep()
    finally:
        close_old_connections()


def events_sweep() -> int:
    """Delete the upload events older than ``UPLOAD_EVENT_RETENTION_HOURS`` (a stream replays
    at most that far back); the number deleted."""
    removed = upload_events_sweep(older_than=timedelta(hours=settings.UPLOAD_EVENT_RETENTION_HOURS))
    if removed:
        log.info("upload events: %s older than %s h deleted", removed, settings.UPLOAD_EVENT_RETENTION_HOURS)
    return removed


class Command(BaseCommand):
    help = (
        "Run replace_temp_urls every REPLACE_URLS_INTERVAL_SECONDS, and sweep_failed (with the upload events "
        "and the direct uploads nobody used) every hour, "
        "until SIGTERM or Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=int,
            default=settings.REPLACE_URLS_INTERVAL_SECONDS,
            help="seconds between runs (default: %(default)s, from REPLACE_URLS_INTERVAL_SECONDS)",
        )
        parser.add_argument("--once", action="store_true", help="run each job once and exit")

    def handle(self, *args, interval: int, once: bool, **options) -> None:
        if once:
            result = uploads_processed_complete()
            self.stdout.write(f"completed {result.completed} image(s), rewrote {result.references} reference(s)")
            self.stdout.write(f"deleted {failed_sweep()} expired failed original(s)")
            self.stdout.write(f"deleted {events_sweep()} expired upload event(s)")
            self.stdout.write(f"deleted {direct_uploads_sweep()} expired direct upload(s)")
            return

        scheduler = BlockingScheduler(timezone="UTC")
        scheduler.add_job(
            replace_job,
            "interval",
            seconds=interval,
            id="replace_temp_urls",
            max_instances=1,  # a slow run is never overlapped by the next
            coalesce=True,  # runs missed while busy collapse into one
            next_run_time=datetime.now().astimezone(),
        )

        scheduler.add_job(
            failed_sweep_job, "interval", seconds=FAILED_SWEEP_INTERVAL_SECONDS, id="sweep_failed",
            max_instances=1, coalesce=True, next_run_time=datetime.now().astimezone(),
        )

        def stop(signum: int, frame: object) -> None:
            log.info("signal %s: stopping the scheduler after the current run", signum)
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"scheduler started: replace_temp_urls every {interval}s")
        self.stdout.flush()
        scheduler.start()
        # start() returns once shutdown() was called; a job still running finishes first, since
        # the interpreter joins the executor's worker threads before it exits.
        self.stdout.write("scheduler stopped")
