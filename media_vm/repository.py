"""Every read and write of the media DB the worker, the healer and the server make.

Claims are compare-and-set updates: a worker takes a row only with an ``UPDATE ...
WHERE`` that re-checks the lease, and only if exactly one row changed. On MySQL/MariaDB
the update takes the row lock and re-reads the committed row, on SQLite the database
lock serialises writers, so two workers (threads, processes or hosts) never both win.
Each claim gets a fresh ``claim_token``; every later write by the worker names it, so a
worker whose lease was taken over cannot overwrite the new owner's work.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from media_vm.db import (
    media_ai_analysis,
    media_files,
    media_fingerprints,
    media_variants,
    processing_checklist,
    worker_heartbeats,
)
from media_vm.status import STEPS, JobStatus, Step, StepStatus
from shared.naming import new_media_id
from shared.payloads import ANALYSIS_FIELDS


def utcnow() -> datetime:
    """Naive UTC, as the DATETIME columns store it."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class LeaseLost(RuntimeError):
    """The claim was taken over by another worker: stop touching this image."""


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one image: the row's id and the token that fences it."""

    media_file_id: int
    token: str
    worker_id: str


class Repository:
    def __init__(self, engine: Engine, *, lease_seconds: int = 300) -> None:
        self.engine = engine
        self.lease_seconds = lease_seconds

    # -- registering work ------------------------------------------------------------

    def register(self, item: dict[str, Any]) -> bool:
        """Record a pending image from the main API once; True when it is new here (or taken
        up again: a row this VM failed and reported that ops have since put back to pending)."""
        now = utcnow()
        with self.engine.begin() as conn:
            exists = conn.execute(
                select(media_files.c.id, media_files.c.status, media_files.c.reported)
                .where(media_files.c.main_api_id == int(item["id"]))
            ).first()
            if exists:
                if exists.status == JobStatus.FAILED.value and exists.reported:
                    return self._requeue(conn, exists.id, now)
                return False
        try:
            with self.engine.begin() as conn:
                result = conn.execute(
                    insert(media_files).values(
                        main_api_id=int(item["id"]),
                        media_id=new_media_id(),
                        user_id=int(item["user_id"]),
                        data_type=str(item["data_type"]),
                        image_path=str(item["image_path"]),
                        original_name=str(item.get("original_name") or "")[:255],
                        mime_type=str(item.get("mime_type") or "")[:50],
                        status=JobStatus.QUEUED.value,
                        reported=False,
                        has_alpha=False,
                        created_at=now,
                        updated_at=now,
                    )
                )
                file_id = result.inserted_primary_key[0]  # type: ignore[index]
                conn.execute(
                    insert(processing_checklist),
                    [
                        {"media_file_id": file_id, "step": s.value, "status": StepStatus.PENDING.value, "attempts": 0}
                        for s in STEPS
                    ],
                )
            return True
        except IntegrityError:
            # another worker registered it between our check and our insert
            return False

    def _requeue(self, conn: Any, file_id: int, now: datetime) -> bool:
        """A failed image listed as pending again: every step from scratch, a fresh media id."""
        changed = conn.execute(
            update(media_files).where(and_(media_files.c.id == file_id,
                                           media_files.c.status == JobStatus.FAILED.value))
            .values(status=JobStatus.QUEUED.value, reported=False, failure_reason=None, media_id=new_media_id(),
                    bulk_path=None, next_attempt_at=None, lease_owner=None, lease_expires_at=None,
                    claim_token=None, updated_at=now)
        ).rowcount
        if changed:
            conn.execute(update(processing_checklist).where(processing_checklist.c.media_file_id == file_id)
                         .values(status=StepStatus.PENDING.value, attempts=0, last_error=None,
                                 started_at=None, finished_at=None))
        return bool(changed)

    def max_main_api_id(self) -> int:
        """The largest main API id registered here (0 when none): where a long poll resumes."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(media_files.c.main_api_id))).scalar() or 0)

    # -- claiming --------------------------------------------------------------------

    def claim_next(self, worker_id: str, *, candidates: int = 20) -> Claim | None:
        """Take the oldest image that is due and not held by a live lease."""
        now = utcnow()
        claimable = and_(
            media_files.c.status.in_([JobStatus.QUEUED.value, JobStatus.PROCESSING.value]),
            or_(media_files.c.lease_expires_at.is_(None), media_files.c.lease_expires_at < now),
            or_(media_files.c.next_attempt_at.is_(None), media_files.c.next_attempt_at <= now),
        )
        with self.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(
                select(media_files.c.id).where(claimable).order_by(media_files.c.id).limit(candidates)
            )]
        for file_id in ids:
            token = secrets.token_hex(16)
            with self.engine.begin() as conn:
                changed = conn.execute(
                    update(media_files)
                    .where(and_(media_files.c.id == file_id, claimable))
                    .values(
                        lease_owner=worker_id,
                        lease_expires_at=now + timedelta(seconds=self.lease_seconds),
                        claim_token=token,
                        updated_at=now,
                    )
                ).rowcount
            if changed == 1:
                return Claim(file_id, token, worker_id)
        return None

    def renew(self, claim: Claim) -> None:
        """Extend the lease; raises LeaseLost when another worker holds the row now."""
        now = utcnow()
        self._fenced_update(claim, lease_expires_at=now + timedelta(seconds=self.lease_seconds), updated_at=now)

    def release(self, claim: Claim, *, retry_at: datetime | None = None) -> None:
        """Let go of the row, optionally not to be claimed again before ``retry_at``."""
        self._fenced_update(
            claim, lease_owner=None, lease_expires_at=None, claim_token=None,
            next_attempt_at=retry_at, updated_at=utcnow(),
        )

    def _fenced_update(self, claim: Claim, **values: Any) -> None:
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(media_files)
                .where(and_(media_files.c.id == claim.media_file_id, media_files.c.claim_token == claim.token))
                .values(**values)
            ).rowcount
        if changed != 1:
            raise LeaseLost(f"media file {claim.media_file_id}: lease of {claim.worker_id} was taken over")

    # -- reading ---------------------------------------------------------------------

    def media_file(self, media_file_id: int) -> RowMapping:
        with self.engine.connect() as conn:
            return conn.execute(select(media_files).where(media_files.c.id == media_file_id)).mappings().one()

    def by_main_api_id(self, main_api_id: int) -> RowMapping | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(media_files).where(media_files.c.main_api_id == main_api_id)
            ).mappings().first()

    def by_media_id(self, media_id: str) -> RowMapping | None:
        with self.engine.connect() as conn:
            return conn.execute(select(media_files).where(media_files.c.media_id == media_id)).mappings().first()

    def checklist(self, media_file_id: int) -> dict[Step, RowMapping]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(processing_checklist).where(processing_checklist.c.media_file_id == media_file_id)
            ).mappings().all()
        return {Step(r["step"]): r for r in rows}

    def variants(self, media_id: str) -> list[RowMapping]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(media_variants).where(media_variants.c.media_id == media_id)).mappings())

    def analysis(self, media_file_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(media_ai_analysis.c.analysis).where(media_ai_analysis.c.media_file_id == media_file_id)
            ).first()
        return dict(row[0]) if row else None

    def next_due(self) -> datetime | None:
        """When the next unfinished image that no live lease holds becomes due (None: none left)."""
        now = utcnow()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(media_files.c.next_attempt_at).where(and_(
                    media_files.c.status.in_([JobStatus.QUEUED.value, JobStatus.PROCESSING.value]),
                    or_(media_files.c.lease_expires_at.is_(None), media_files.c.lease_expires_at < now),
                ))
            ).all()
        if not rows:
            return None
        return min((r[0] or datetime.min) for r in rows)

    # -- steps -----------------------------------------------------------------------

    def step_started(self, claim: Claim, step: Step) -> int:
        """Mark a step running and count the attempt; returns the attempt number."""
        now = utcnow()
        self.renew(claim)
        with self.engine.begin() as conn:
            conn.execute(
                update(processing_checklist)
                .where(and_(processing_checklist.c.media_file_id == claim.media_file_id,
                            processing_checklist.c.step == step.value))
                .values(status=StepStatus.RUNNING.value, attempts=processing_checklist.c.attempts + 1,
                        started_at=now, finished_at=None)
            )
            conn.execute(
                update(media_files).where(media_files.c.id == claim.media_file_id)
                .values(status=JobStatus.PROCESSING.value, updated_at=now)
            )
            attempts = conn.execute(
                select(processing_checklist.c.attempts).where(and_(
                    processing_checklist.c.media_file_id == claim.media_file_id,
                    processing_checklist.c.step == step.value))
            ).scalar_one()
        return int(attempts)

    def step_finished(self, claim: Claim, step: Step, *, error: str | None = None) -> None:
        self.renew(claim)
        with self.engine.begin() as conn:
            conn.execute(
                update(processing_checklist)
                .where(and_(processing_checklist.c.media_file_id == claim.media_file_id,
                            processing_checklist.c.step == step.value))
                .values(status=StepStatus.FAILED.value if error else StepStatus.DONE.value,
                        last_error=error[:2000] if error else None, finished_at=utcnow())
            )

    def save_original(self, claim: Claim, bulk_path: str) -> None:
        self._fenced_update(claim, bulk_path=bulk_path, updated_at=utcnow())

    def save_analysis(self, claim: Claim, analysis: dict[str, Any]) -> None:
        self.renew(claim)
        row = {name: analysis.get(name) for name in ANALYSIS_FIELDS}
        if row.get("detected_text") is not None and not isinstance(row["detected_text"], str):
            row["detected_text"] = str(row["detected_text"])
        if row.get("medium_detected") is not None:
            row["medium_detected"] = str(row["medium_detected"])[:100]
        with self.engine.begin() as conn:
            conn.execute(delete(media_ai_analysis).where(media_ai_analysis.c.media_file_id == claim.media_file_id))
            conn.execute(insert(media_ai_analysis).values(
                media_file_id=claim.media_file_id, analysis=analysis, created_at=utcnow(),
                raw_google_response=analysis.get("raw_google_response"),
                raw_gpt4_response=analysis.get("raw_gpt4_response"), **row,
            ))
            conn.execute(update(media_files).where(media_files.c.id == claim.media_file_id).values(
                width=analysis.get("width"), height=analysis.get("height"),
                has_alpha=bool(analysis.get("has_alpha")),
            ))

    def save_variants(self, claim: Claim, media_id: str, variants: Iterable[dict[str, Any]]) -> None:
        self.renew(claim)
        now = utcnow()
        rows = [{**v, "media_file_id": claim.media_file_id, "media_id": media_id, "created_at": now} for v in variants]
        with self.engine.begin() as conn:
            conn.execute(delete(media_variants).where(media_variants.c.media_file_id == claim.media_file_id))
            if rows:
                conn.execute(insert(media_variants), rows)

    def finish(self, claim: Claim, *, processing_seconds: float | None, report_at: datetime | None = None) -> None:
        """Every step done. With ``report_at`` the main API has not acknowledged it yet:
        the healer calls back from then on."""
        values: dict[str, Any] = {}
        if processing_seconds is not None:
            values["processing_seconds"] = processing_seconds
        self._fenced_update(
            claim, status=JobStatus.DONE.value, reported=report_at is None, completed_at=utcnow(),
            updated_at=utcnow(), lease_owner=None, lease_expires_at=None, claim_token=None,
            next_attempt_at=report_at, **values,
        )

    def fail(self, claim: Claim, reason: str) -> None:
        """Give the image up; ``reported`` stays false until the main API hears of it."""
        self._fenced_update(
            claim, status=JobStatus.FAILED.value, failure_reason=reason[:2000], updated_at=utcnow(),
            lease_owner=None, lease_expires_at=None, claim_token=None, next_attempt_at=None,
        )

    def mark_reported(self, media_file_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(media_files).where(media_files.c.id == media_file_id)
                         .values(reported=True, updated_at=utcnow()))

    # -- healing ---------------------------------------------------------------------

    def unreported(self, limit: int) -> list[RowMapping]:
        """Finished or failed images whose outcome the main API has not acknowledged."""
        with self.engine.connect() as conn:
            return list(conn.execute(
                select(media_files).where(and_(
                    media_files.c.reported.is_(False),
                    media_files.c.status.in_([JobStatus.DONE.value, JobStatus.FAILED.value]),
                    or_(media_files.c.next_attempt_at.is_(None), media_files.c.next_attempt_at <= utcnow()),
                )).order_by(media_files.c.updated_at).limit(limit)
            ).mappings())

    def postpone_report(self, media_file_id: int, retry_at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(media_files).where(media_files.c.id == media_file_id)
                         .values(next_attempt_at=retry_at, updated_at=utcnow()))

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

    # -- observability ---------------------------------------------------------------

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

    # -- fingerprints (similarity, duplicates) -----------------------------------------

    def save_fingerprint(self, claim: Claim, fingerprint: dict[str, Any]) -> None:
        """Store (or replace) the image's fingerprint: ``media_id``, ``user_id``,
        ``data_type``, ``phash``, ``sha256``, ``embedding``, ``embedding_version``."""
        self.renew(claim)
        with self.engine.begin() as conn:
            conn.execute(delete(media_fingerprints).where(media_fingerprints.c.media_file_id == claim.media_file_id))
            conn.execute(insert(media_fingerprints).values(
                media_file_id=claim.media_file_id, created_at=utcnow(), **fingerprint))

    def fingerprint(self, media_id: str) -> RowMapping | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(media_fingerprints).where(media_fingerprints.c.media_id == media_id)
            ).mappings().first()

    def fingerprints(self, *, user_id: int | None, embedding_version: int) -> list[RowMapping]:
        """Every stored fingerprint of ``user_id`` (``None``: of everyone) made by ``embedding_version``,
        with the image's ``status``."""
        query = (
            select(media_fingerprints, media_files.c.status)
            .join(media_files, media_files.c.id == media_fingerprints.c.media_file_id)
            .where(media_fingerprints.c.embedding_version == embedding_version)
        )
        if user_id is not None:
            query = query.where(media_fingerprints.c.user_id == user_id)
        with self.engine.connect() as conn:
            return list(conn.execute(query.order_by(media_fingerprints.c.media_file_id)).mappings())
