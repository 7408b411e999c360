"""Prometheus metrics of the main API, served at ``GET /metrics``.

- ``main_api_http_requests_total{view, method, status}`` and
  ``main_api_http_request_duration_seconds{view}``: every request, by URL name.
- ``main_api_uploads_total{data_type, outcome}``: files sent to ``PATCH /users/me``
  (``accepted``, ``rejected`` for a refused file, ``too_large`` for a 413).
- ``main_api_pending_images{status}`` and ``main_api_pending_images_stuck``: computed from
  the database at scrape time, so every process reports the same truth.

Under gunicorn each worker process counts on its own. Set ``PROMETHEUS_MULTIPROC_DIR`` to
an empty, writable folder (wiped before each start) and the counters of all workers are
summed at scrape, whichever worker answers; without it a scrape sees one worker's counts.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric

REQUESTS = Counter(
    "main_api_http_requests", "HTTP requests answered, by URL name, method and status.", ["view", "method", "status"]
)
LATENCY = Histogram(
    "main_api_http_request_duration_seconds",
    "Seconds from the request reaching Django to the answer leaving it, by URL name.",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
UPLOADS = Counter("main_api_uploads", "Files uploaded to PATCH /users/me, by data type and outcome.",
                  ["data_type", "outcome"])

CONTENT_TYPE = CONTENT_TYPE_LATEST


def request_observed(*, view: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request."""
    REQUESTS.labels(view=view, method=method, status=str(status)).inc()
    LATENCY.labels(view=view).observe(seconds)


def uploads_observed(*, data_types: Iterable[str], outcome: str) -> None:
    """Count the files of one ``PATCH /users/me`` with its outcome."""
    for data_type in data_types:
        UPLOADS.labels(data_type=data_type, outcome=outcome).inc()


class PendingImagesCollector:
    """``main_api_pending_images{status}``, read from the database at each scrape."""

    def describe(self) -> list[Metric]:
        # Given so that registering never queries the database (the registry would call collect()).
        return [
            GaugeMetricFamily("main_api_pending_images", ""),
            GaugeMetricFamily("main_api_pending_images_stuck", ""),
        ]

    def collect(self) -> Iterator[Metric]:
        from main_api.media.selectors import pending_image_counts, stuck_images

        by_status = GaugeMetricFamily("main_api_pending_images", "Rows of pending_images by status.", labels=["status"])
        for status, count in pending_image_counts().items():
            by_status.add_metric([status], count)
        yield by_status
        yield GaugeMetricFamily(
            "main_api_pending_images_stuck",
            "Pending rows untouched for over an hour (not picked up by the media VM).",
            value=stuck_images().count(),
        )


def exposition() -> bytes:
    """The metrics in Prometheus' text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        process_metrics = generate_latest(registry)
    else:
        process_metrics = generate_latest(REGISTRY)
    database = CollectorRegistry(auto_describe=False)
    database.register(PendingImagesCollector())
    return process_metrics + generate_latest(database)
