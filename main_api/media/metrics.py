"""The media app's metrics on ``GET /metrics``.

- ``main_api_pending_images{status}``, ``main_api_pending_images_stuck``: gauges read from the
  database at each scrape (registered with
  :func:`main_api.common.metrics.database_collector_register` in ``MediaConfig.ready()``);
- ``main_api_media_wakeups_total{outcome}``: wake-ups for the media VM pushed onto Redis
  (``pushed``), or lost to a Redis that did not answer (``failed``; ``main_api.media.wakeup``).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric

from main_api.media.selectors.dashboard import upload_counts, uploads_stuck

WAKEUPS = Counter("main_api_media_wakeups", "Wake-ups for the media VM workers on Redis, by outcome (pushed, failed, "
                  "skipped: within wakeup.RETRY_AFTER_SECONDS of a failure).",
                  ["outcome"])


class UploadsCollector:
    """``main_api_pending_images{status}`` and ``main_api_pending_images_stuck``."""

    def describe(self) -> list[Metric]:
        # Given so that registering never queries the database (the registry would call collect()).
        return [
            GaugeMetricFamily("main_api_pending_images", ""),
            GaugeMetricFamily("main_api_pending_images_stuck", ""),
        ]

    def collect(self) -> Iterator[Metric]:
        by_status = GaugeMetricFamily("main_api_pending_images", "Rows of pending_images by status.", labels=["status"])
        for status, count in upload_counts().items():
            by_status.add_metric([status], count)
        yield by_status
        yield GaugeMetricFamily(
            "main_api_pending_images_stuck",
            "Pending rows untouched for over an hour (not picked up by the media VM).",
            value=uploads_stuck().count(),
        )
