"""Workers' heartbeats, the takeover of a dead worker's claims, and the counts ``/metrics`` and
``/health`` report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from media_vm.checklist import JobStatus
from media_vm.db.base import RecordsBase
from media_vm.db.engine import utcnow
from media_vm.db.schema import media_files, media_output_stats, processing_checklist, worker_heartbeats

#: Upper bounds (seconds) of the ``media_vm_processing_seconds`` histogram's buckets.
PROCESSING_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800)
#: Upper bounds of the per-image step-time histogram (milliseconds of work, queueing excluded).
STEP_TIME_BUCKETS_MS = (100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)
#: Upper bounds of the output/original bytes ratio histogram (below 1: smaller than the upload).
RATIO_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class ProcessIdentity:
    """The process behind a heartbeat row, whatever its ``WORKER_ID`` says: ``host`` (the host
    name), ``host_key`` (equal for processes that share a kernel boot and a pid namespace, at
    most 120 characters) and ``pid``. ``media_vm.worker.liveness`` tells this process's."""

    host: str
    host_key: str
    pid: int


class HeartbeatRecords(RecordsBase):
    def heartbeat(self, worker_id: str, *, queue_depth: int | None = None, poll_ok: bool | None = None,
                  process: ProcessIdentity | None = None, alive_seconds: float | None = None,
                  redis_ok: bool | None = None, redis_outages: int | None = None) -> None:
        """Record that ``worker_id`` is alive now: the poller passes what its last poll saw
        (``queue_depth``, ``poll_ok``), the heartbeat thread its ``process``, how long it
        counts as alive without another beat (``alive_seconds``) and, with Redis wake-ups,
        whether Redis answers (``redis_ok``) and the outages seen (``redis_outages``); what is
        not given is kept."""
        now = utcnow()
        values: dict[str, Any] = {"last_seen": now}
        if queue_depth is not None:
            values["queue_depth"] = queue_depth
        if poll_ok is not None:
            values["last_poll_ok"] = poll_ok
        if process is not None:
            values.update(host=process.host, host_key=process.host_key, pid=process.pid)
        if alive_seconds is not None:
            values["alive_until"] = now + timedelta(seconds=alive_seconds)
        if redis_ok is not None:
            values["redis_ok"] = redis_ok
        if redis_outages is not None:
            values["redis_outages"] = redis_outages
        with self.engine.begin() as conn:
            changed = conn.execute(update(worker_heartbeats).where(worker_heartbeats.c.worker_id == worker_id)
                                   .values(**values)).rowcount
            if not changed:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(worker_heartbeats).values(
                            {"worker_id": worker_id, "queue_depth": 0, "last_poll_ok": True, **values}))
                except IntegrityError:
                    pass

    def workers_of_host(self, host_key: str) -> list[RowMapping]:
        """Heartbeat rows (``worker_id``, ``pid``) written by processes of the host ``host_key``
        names (``media_vm.worker.liveness``): the ones whose pid this host can check."""
        with self.engine.connect() as conn:
            return list(conn.execute(
                select(worker_heartbeats.c.worker_id, worker_heartbeats.c.pid)
                .where(worker_heartbeats.c.host_key == host_key, worker_heartbeats.c.pid.is_not(None))
            ).mappings())

    def take_over_dead(self, worker_id: str, *, pid: int) -> int:
        """``worker_id``'s process ``pid`` is gone: end its heartbeat (unless another process
        wrote it since) and the leases of its claims now, so any worker claims them at once;
        the claim tokens stay, so a write of the dead process could never land. Returns how
        many claims were freed."""
        now = utcnow()
        past = now - timedelta(seconds=1)
        with self.engine.begin() as conn:
            # the row still names the dead process (a new one of the same WORKER_ID writes its
            # own pid before it claims anything): otherwise its claims may be the new one's
            still_dead = conn.execute(update(worker_heartbeats)
                                      .where(worker_heartbeats.c.worker_id == worker_id,
                                             worker_heartbeats.c.pid == pid)
                                      .values(alive_until=past)).rowcount
            if not still_dead:
                return 0
            return int(conn.execute(
                update(media_files).where(
                    media_files.c.lease_owner == worker_id,
                    media_files.c.lease_expires_at >= now,
                    media_files.c.status.in_([JobStatus.QUEUED.value, JobStatus.PROCESSING.value]),
                ).values(lease_expires_at=past, updated_at=now)
            ).rowcount)

    def stats(self) -> dict[str, Any]:
        """Counts for ``/metrics`` and ``/health``."""
        with self.engine.connect() as conn:
            jobs: dict[str, int] = dict(conn.execute(  # type: ignore[arg-type]
                select(media_files.c.status, func.count()).group_by(media_files.c.status)).all())
            step_failures: dict[str, int] = dict(conn.execute(  # type: ignore[arg-type]
                select(processing_checklist.c.step, func.count())
                .where(processing_checklist.c.last_error.is_not(None))
                .group_by(processing_checklist.c.step)).all())
            attempts = dict(conn.execute(
                select(processing_checklist.c.step, func.sum(processing_checklist.c.attempts))
                .group_by(processing_checklist.c.step)).all())
            seconds = conn.execute(select(
                func.count(media_files.c.processing_seconds), func.sum(media_files.c.processing_seconds))
                .where(media_files.c.processing_seconds.is_not(None))).one()
            workers = list(conn.execute(select(worker_heartbeats)).mappings())
        return {
            "jobs": {k: int(v) for k, v in jobs.items()},
            "step_failures": {k: int(v) for k, v in step_failures.items()},
            "step_attempts": {k: int(v or 0) for k, v in attempts.items()},
            "processing_count": int(seconds[0] or 0),
            "processing_seconds_sum": float(seconds[1] or 0.0),
            "workers": workers,
        }

    def output_stats(self) -> list[dict[str, Any]]:
        """Per (data type, preset) of ``media_output_stats``: ``count``, ``ms_sum``, ``ratio_sum``
        and the cumulative counts at or below each of :data:`STEP_TIME_BUCKETS_MS`
        (``ms_buckets``) and :data:`RATIO_BUCKETS` (``ratio_buckets``); one query."""
        ms, ratio = media_output_stats.c.processing_ms, media_output_stats.c.ratio
        columns = [media_output_stats.c.data_type, media_output_stats.c.preset, func.count(), func.sum(ms),
                   func.sum(ratio), *(func.sum(case((ms <= le, 1), else_=0)) for le in STEP_TIME_BUCKETS_MS),
                   *(func.sum(case((ratio <= le, 1), else_=0)) for le in RATIO_BUCKETS)]
        with self.engine.connect() as conn:
            rows = conn.execute(select(*columns).group_by(media_output_stats.c.data_type, media_output_stats.c.preset)
                                .order_by(media_output_stats.c.data_type, media_output_stats.c.preset)).all()
        n_ms = len(STEP_TIME_BUCKETS_MS)
        return [{"data_type": row[0], "preset": row[1], "count": int(row[2]), "ms_sum": float(row[3] or 0),
                 "ratio_sum": float(row[4] or 0),
                 "ms_buckets": [(le, int(n or 0)) for le, n in zip(STEP_TIME_BUCKETS_MS, row[5:5 + n_ms], strict=True)],
                 "ratio_buckets": [(le, int(n or 0)) for le, n in zip(RATIO_BUCKETS, row[5 + n_ms:], strict=True)]}
                for row in rows]

    def retries_and_buckets(self) -> tuple[dict[str, int], list[tuple[int, int]]]:
        """Attempts beyond the first per step, and how many images took at most each of
        ``PROCESSING_BUCKETS`` seconds from registration to done (cumulative counts)."""
        attempts = processing_checklist.c.attempts
        seconds = media_files.c.processing_seconds
        with self.engine.connect() as conn:
            retries = dict(conn.execute(
                select(processing_checklist.c.step, func.sum(case((attempts > 1, attempts - 1), else_=0)))
                .group_by(processing_checklist.c.step)).all())
            counts = conn.execute(select(*(func.sum(case((seconds <= le, 1), else_=0)) for le in PROCESSING_BUCKETS))
                                  .where(seconds.is_not(None))).one()
        return ({str(k): int(v or 0) for k, v in retries.items()},
                [(le, int(n or 0)) for le, n in zip(PROCESSING_BUCKETS, counts, strict=True)])
