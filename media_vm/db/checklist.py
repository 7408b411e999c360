"""The per-image checklist: each step's state, attempts and last error."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement

from media_vm.checklist import JobStatus, Step, StepStatus
from media_vm.db.base import Claim, RecordsBase
from media_vm.db.engine import utcnow
from media_vm.db.schema import media_files, processing_checklist


def _step_of(claim: Claim, step: Step) -> ColumnElement[bool]:
    """The checklist row of ``step`` of the claimed image."""
    return and_(processing_checklist.c.media_file_id == claim.media_file_id, processing_checklist.c.step == step.value)


class ChecklistRecords(RecordsBase):
    def checklist(self, media_file_id: int) -> dict[Step, RowMapping]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(processing_checklist).where(processing_checklist.c.media_file_id == media_file_id)
            ).mappings().all()
        return {Step(r["step"]): r for r in rows}


    def step_started(self, claim: Claim, step: Step) -> int:
        """Mark a step running and count the attempt; returns the attempt number."""
        now = utcnow()
        self.renew(claim)
        with self.engine.begin() as conn:
            conn.execute(
                update(processing_checklist)
                .where(_step_of(claim, step))
                .values(status=StepStatus.RUNNING.value, attempts=processing_checklist.c.attempts + 1,
                        started_at=now, finished_at=None)
            )
            conn.execute(
                update(media_files).where(media_files.c.id == claim.media_file_id)
                .values(status=JobStatus.PROCESSING.value, updated_at=now)
            )
            attempts = conn.execute(
                select(processing_checklist.c.attempts).where(_step_of(claim, step))
            ).scalar_one()
        return int(attempts)

    def step_finished(self, claim: Claim, step: Step, *, error: str | None = None) -> None:
        self.renew(claim)
        with self.engine.begin() as conn:
            conn.execute(
                update(processing_checklist)
                .where(_step_of(claim, step))
                .values(status=StepStatus.FAILED.value if error else StepStatus.DONE.value,
                        last_error=error[:2000] if error else None, finished_at=utcnow())
            )


    def reset_stalled(self, limit: int, stall_seconds: int) -> list[int]:
        """Steps left ``running`` by a worker whose lease expired go back to pending."""
        now = utcnow()
        cutoff = now - timedelta(seconds=stall_seconds)
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(processing_checklist.c.id, processing_checklist.c.media_file_id)
                .join(media_files, media_files.c.id == processing_checklist.c.media_file_id)
                .where(and_(
                    processing_checklist.c.status == StepStatus.RUNNING.value,
                    or_(media_files.c.lease_expires_at.is_(None), media_files.c.lease_expires_at < now),
                    or_(processing_checklist.c.started_at.is_(None), processing_checklist.c.started_at < cutoff),
                )).limit(limit)
            ).all()
            for step_id, _file_id in rows:
                conn.execute(update(processing_checklist).where(processing_checklist.c.id == step_id).values(
                    status=StepStatus.FAILED.value, last_error="stalled: the worker holding it went away"))
        return [r[1] for r in rows]
