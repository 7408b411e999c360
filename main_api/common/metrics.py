"""Prometheus metrics of the main API, served at ``GET /metrics``.

- ``main_api_http_requests_total{view, method, status}`` and
  ``main_api_http_request_duration_seconds{view}``: every request, by URL name.
- ``main_api_uploads_total{data_type, outcome}``: files sent to ``PATCH /users/me``
  (``accepted``, ``rejected`` for a refused file, ``too_large`` for a 413).
- Gauges computed from the database at scrape time, so every process reports the same truth:
  an app registers a collector for them with :func:`database_collector_register` (the media
  app's ``main_api_pending_images{status}`` and ``main_api_pending_images_stuck``).

Under gunicorn each worker process counts on its own. With ``PROMETHEUS_MULTIPROC_DIR`` (a
declared setting, ``settings.PROMETHEUS_MULTIPROC_DIR``; prometheus_client reads the variable
itself when it is imported, so it has to be in the environment, not only in Django's settings)
every worker writes its counts to files there and a scrape sums all of them
(``MultiProcessCollector``), whichever worker answers. ``deploy/gunicorn_main_api.py`` empties
the folder when the server starts (``on_starting``) and drops a dead worker's live gauges
(``child_exit``); systemd, compose and ``make run`` set it. Without it a scrape sees the counts
of the one worker that answers, and they jump up and down from scrape to scrape.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import Metric

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


class DatabaseCollector(Protocol):
    """A ``prometheus_client`` custom collector whose ``collect()`` reads the database.

    ``describe()`` must name its metrics without querying (the registry would otherwise call
    ``collect()`` on registration).
    """

    def describe(self) -> list[Metric]: ...

    def collect(self) -> Iterable[Metric]: ...


#: Collectors asked at each scrape, in registration order.
_database_collectors: list[DatabaseCollector] = []


def database_collector_register(collector: DatabaseCollector) -> None:
    """Have :func:`exposition` include ``collector``'s metrics at every scrape.

    Called from an app's ``AppConfig.ready()``; a second collector of the same class is ignored,
    so running ``ready()`` again does not report the metrics twice.
    """
    if not any(type(c) is type(collector) for c in _database_collectors):
        _database_collectors.append(collector)


def exposition() -> bytes:
    """The metrics in Prometheus' text format."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        process_metrics = generate_latest(registry)
    else:
        process_metrics = generate_latest(REGISTRY)
    database = CollectorRegistry(auto_describe=False)
    for collector in _database_collectors:
        database.register(collector)
    return process_metrics + generate_latest(database)
