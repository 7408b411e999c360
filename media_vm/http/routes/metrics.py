"""``GET /metrics``: Prometheus text, read from the media DB at each scrape.

Every VM host's server reports the same shared media DB, so the numbers are gauges and
counters of the DB's contents, not of this process: :class:`MediaDBCollector` reads
``Repository.stats()`` and ``Repository.retries_and_buckets()`` when Prometheus scrapes.
"""

from __future__ import annotations

from calendar import timegm
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from media_vm.checklist import JobStatus
from media_vm.db import Repository
from media_vm.http.wsgi import Request, Response

#: The text format this answers in (Prometheus' 0.0.4, what ``generate_latest`` writes).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class MediaDBCollector(Collector):
    """The media DB's counts as metrics (names and labels as the README lists them):

    - ``media_vm_jobs{state}``: images by state (gauge);
    - ``media_vm_step_failures{step}``: checklist steps whose last attempt failed (gauge);
    - ``media_vm_step_attempts_total{step}``, ``media_vm_step_retries_total{step}``: attempts,
      and attempts beyond the first, per step (counters);
    - ``media_vm_processing_seconds``: seconds from registration to done (histogram);
    - ``media_vm_image_step_milliseconds{data_type,preset}``: an image's time in its steps,
      queueing excluded (histogram; ``media_vm.processing_metrics``);
    - ``media_vm_output_ratio{data_type,preset}``: bytes written over the original's bytes, per
      output group (``display``, or the tool of a preset) (histogram);
    - ``media_vm_queue_depth_seen{worker}``, ``media_vm_worker_last_seen_timestamp{worker}``:
      each worker's last poll (pending images listed; unix time);
    - ``media_vm_redis_up{worker}`` (1/0) and ``media_vm_redis_outages_total{worker}``: the Redis
      wake-ups of each worker that has ``REDIS_URL`` (``media_vm.wakeups``), as its last
      heartbeat wrote them.
    """

    def __init__(self, repo: Repository) -> None:
        self.repo = repo

    def collect(self) -> Iterator[Metric]:
        """The metric families, read from the media DB now (two queries' worth)."""
        stats = self.repo.stats()
        retries, buckets = self.repo.retries_and_buckets()

        jobs = GaugeMetricFamily("media_vm_jobs", "Images in the media DB by state.", labels=["state"])
        for state in JobStatus:
            jobs.add_metric([state.value], stats["jobs"].get(state.value, 0))
        yield jobs

        failures = GaugeMetricFamily("media_vm_step_failures", "Checklist steps whose last attempt failed.",
                                     labels=["step"])
        for step, n in sorted(stats["step_failures"].items()):
            failures.add_metric([step], n)
        yield failures

        attempts = CounterMetricFamily("media_vm_step_attempts", "Attempts made per checklist step.", labels=["step"])
        for step, n in sorted(stats["step_attempts"].items()):
            attempts.add_metric([step], n)
        yield attempts

        retried = CounterMetricFamily("media_vm_step_retries", "Attempts beyond the first, per checklist step.",
                                      labels=["step"])
        for step, n in sorted(retries.items()):
            retried.add_metric([step], n)
        yield retried

        yield HistogramMetricFamily(
            "media_vm_processing_seconds", "Seconds from registration to done, per image.",
            buckets=[(floatToGoString(le), n) for le, n in buckets] + [("+Inf", stats["processing_count"])],
            sum_value=stats["processing_seconds_sum"],
        )

        step_ms = HistogramMetricFamily("media_vm_image_step_milliseconds",
                                        "Milliseconds an image spent in its steps (queueing excluded).",
                                        labels=["data_type", "preset"])
        ratio = HistogramMetricFamily("media_vm_output_ratio", "Bytes written over the original's bytes, per image "
                                      "and output group.", labels=["data_type", "preset"])
        for group in self.repo.output_stats():
            labels = [group["data_type"], group["preset"]]
            step_ms.add_metric(labels, [(floatToGoString(le), n) for le, n in group["ms_buckets"]]
                               + [("+Inf", group["count"])], sum_value=group["ms_sum"])
            ratio.add_metric(labels, [(floatToGoString(le), n) for le, n in group["ratio_buckets"]]
                             + [("+Inf", group["count"])], sum_value=group["ratio_sum"])
        yield step_ms
        yield ratio

        depth = GaugeMetricFamily("media_vm_queue_depth_seen",
                                  "Pending images the main API listed at a worker's last poll.", labels=["worker"])
        seen = GaugeMetricFamily("media_vm_worker_last_seen_timestamp",
                                 "Last heartbeat of each worker (unix time).", labels=["worker"])
        for worker in stats["workers"]:
            depth.add_metric([worker["worker_id"]], worker["queue_depth"])
            seen.add_metric([worker["worker_id"]], timegm(worker["last_seen"].timetuple()))
        yield depth
        yield seen

        redis_up = GaugeMetricFamily("media_vm_redis_up", "Whether Redis answers a worker's wake-up wait (1/0).",
                                     labels=["worker"])
        outages = CounterMetricFamily("media_vm_redis_outages", "Redis outages a worker's wake-ups met.",
                                      labels=["worker"])
        for worker in stats["workers"]:
            if worker.get("redis_ok") is not None:
                redis_up.add_metric([worker["worker_id"]], 1 if worker["redis_ok"] else 0)
                outages.add_metric([worker["worker_id"]], worker["redis_outages"] or 0)
        yield redis_up
        yield outages


class MetricsRoute:
    """Answers ``/metrics`` with :class:`MediaDBCollector`'s metrics (to a media key only, see
    :mod:`media_vm.http.auth`: Prometheus scrapes with ``Authorization: Bearer <key>``)."""

    def __init__(self, repo: Repository) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(MediaDBCollector(repo))

    def __call__(self, request: Request) -> Response:
        data = generate_latest(self.registry)
        return Response(200, [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(data)))], [data])
