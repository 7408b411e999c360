"""Workers' heartbeats and the counts ``/metrics`` and ``/health`` report."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from media_vm.db.base import RecordsBase
from media_vm.db.engine import utcnow
from media_vm.db.schema import media_files, processing_checklist, worker_heartbeats

#: Upper bounds (seconds) of the ``media_vm_processing_seconds`` histogram's buckets.
PROCESSING_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800)


class HeartbeatRecords(RecordsBase):
    def heartbeat(self, worker_id: str, *, queue_depth: int, poll_ok: bool) -> None:
        now = utcnow()
        with self.engine.begin() as conn:
            changed = conn.execute(update(worker_heartbeats).where(worker_heartbeats.c.worker_id == worker_id)
                                   .values(last_seen=now, queue_depth=queue_depth, last_poll_ok=poll_ok)).rowcount
            if not changed:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(worker_heartbeats).values(
                            worker_id=worker_id, last_seen=now, queue_depth=queue_depth, last_poll_ok=poll_ok))
                except IntegrityError:
                    pass

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
