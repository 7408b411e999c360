"""The admin's dashboard: counts by status, stuck uploads, recent failures and their reasons,
processing times, throughput, the media VM's health."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, QuerySet
from django.utils import timezone

from main_api.media.models import Upload
from main_api.media.vm_client import MediaVmStatus, media_vm_status_get

Status = Upload.Status


# --- the operations dashboard ----------------------------------------------------------------

#: A pending row untouched this long (since upload or the last retry) has not been picked up.
STUCK_AFTER = timedelta(hours=1)
#: The window of the dashboard's failures, timings and throughput.
DASHBOARD_WINDOW = timedelta(days=1)


def upload_counts() -> dict[str, int]:
    """Rows of ``pending_images`` by status, every status present (zero when none)."""
    counts = dict.fromkeys(Status.values, 0)
    for status, count in Upload.objects.values_list("status").annotate(n=Count("pk")).order_by():
        counts[status] = count
    return counts


def uploads_stuck(*, older_than: timedelta = STUCK_AFTER, now: datetime | None = None) -> QuerySet[Upload]:
    """Pending rows untouched for longer than ``older_than``, oldest first."""
    cutoff = (now or timezone.now()) - older_than
    return Upload.objects.filter(status=Status.PENDING, updated_at__lt=cutoff).order_by("updated_at", "pk")


def upload_failures_recent(*, since: timedelta = DASHBOARD_WINDOW, now: datetime | None = None) -> QuerySet[Upload]:
    """Rows that failed within ``since``, newest first."""
    cutoff = (now or timezone.now()) - since
    return Upload.objects.filter(status=Status.FAILED, updated_at__gte=cutoff).order_by("-updated_at", "-pk")


def upload_failure_reasons(*, since: timedelta = DASHBOARD_WINDOW, now: datetime | None = None, limit: int = 10
                    ) -> list[tuple[str, int]]:
    """The commonest failure reasons within ``since``: ``(reason, count)``, most frequent first."""
    rows = (
        upload_failures_recent(since=since, now=now)
        .values_list("failure_reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "failure_reason")[:limit]
    )
    return [(reason or "(no reason given)", count) for reason, count in rows]


@dataclass(frozen=True)
class ProcessingTimes:
    """Seconds from upload (``created_at``) to processed (``processed_at``)."""

    count: int
    average_seconds: float | None
    p95_seconds: float | None


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ``values`` (``fraction`` in (0, 1]); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def upload_processing_times(*, since: timedelta = DASHBOARD_WINDOW, now: datetime | None = None) -> ProcessingTimes:
    """Average and p95 time to processed, over the images processed within ``since``.

    Computed in Python from the two timestamps: the same on SQLite and MariaDB, and a day's
    worth of rows is small.
    """
    now = now or timezone.now()
    pairs = Upload.objects.filter(processed_at__gte=now - since, processed_at__lte=now).values_list(
        "created_at", "processed_at"
    )
    seconds = [max(0.0, (processed - created).total_seconds()) for created, processed in pairs.iterator()]
    if not seconds:
        return ProcessingTimes(count=0, average_seconds=None, p95_seconds=None)
    return ProcessingTimes(
        count=len(seconds), average_seconds=sum(seconds) / len(seconds), p95_seconds=percentile(seconds, 0.95)
    )


def uploads_throughput_per_hour(*, hours: int = 24, now: datetime | None = None) -> list[tuple[datetime, int]]:
    """Images processed in each of the last ``hours`` clock hours (the current one included),
    oldest first, with the hours that processed nothing as zero. Hours are UTC."""
    now = now or timezone.now()
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first = current - timedelta(hours=hours - 1)
    buckets = {first + timedelta(hours=n): 0 for n in range(hours)}
    stamps = Upload.objects.filter(processed_at__gte=first, processed_at__lte=now).values_list(
        "processed_at", flat=True
    )
    for stamp in stamps.iterator():
        hour = stamp.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        if hour in buckets:
            buckets[hour] += 1
    return sorted(buckets.items())


@dataclass(frozen=True)
class Dashboard:
    """Everything the admin dashboard shows."""

    counts: dict[str, int]
    stuck: list[Upload]
    stuck_total: int
    failures: list[Upload]
    failures_total: int
    failure_reasons: list[tuple[str, int]]
    processing: ProcessingTimes
    throughput: list[tuple[datetime, int]]
    media_vm: MediaVmStatus

    @property
    def queue_length(self) -> int:
        return self.counts.get(Status.PENDING, 0)

    @property
    def throughput_total(self) -> int:
        return sum(n for _, n in self.throughput)

    @property
    def throughput_peak(self) -> int:
        return max((n for _, n in self.throughput), default=0)


def dashboard_get(*, now: datetime | None = None, listed: int = 20) -> Dashboard:
    """The numbers of the admin dashboard; ``listed`` rows of the stuck and failed lists."""
    now = now or timezone.now()
    stuck = uploads_stuck(now=now).select_related("user")
    failures = upload_failures_recent(now=now).select_related("user")
    return Dashboard(
        counts=upload_counts(),
        stuck=list(stuck[:listed]),
        stuck_total=stuck.count(),
        failures=list(failures[:listed]),
        failures_total=failures.count(),
        failure_reasons=upload_failure_reasons(now=now),
        processing=upload_processing_times(now=now),
        throughput=uploads_throughput_per_hour(now=now),
        media_vm=media_vm_status_get(),
    )
