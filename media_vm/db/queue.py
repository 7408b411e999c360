"""The queue: registering pending images, claims and leases, and an image's final state.

Claims are compare-and-set updates: a worker takes a row only with an ``UPDATE ...
WHERE`` that re-checks the lease, and only if exactly one row changed. On MySQL/MariaDB
the update takes the row lock and re-reads the committed row, on SQLite the database
lock serialises writers, so two workers (threads, processes or hosts) never both win.
Each claim gets a fresh ``claim_token``; every later write by the worker names it, so a
worker whose lease was taken over cannot overwrite the new owner's work.

A lease is taken over when it runs out, or sooner when its worker is dead: its heartbeat
(``media_vm.db.heartbeats``) is past its ``alive_until``, or a worker of its host found its
process gone and ended the lease. Claims go round-robin over users (:meth:`claim_next`).
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from media_vm.checklist import STEPS, JobStatus, StepStatus
from media_vm.db.base import Claim, RecordsBase
from media_vm.db.engine import utcnow
from media_vm.db.schema import media_files, processing_checklist, worker_heartbeats
from shared.naming import new_media_id


def _watermark(item: dict[str, Any]) -> str | None:
    """The pending item's ``watermark`` (absent, null or empty: None), at most the column's 255."""
    text = item.get("watermark")
    return str(text)[:255] if text else None


def _source_tool(item: dict[str, Any]) -> str | None:
    """The pending item's ``source_tool`` (absent, null or empty: None), at most the column's 32."""
    tool = item.get("source_tool")
    return str(tool)[:32] if tool else None


class QueueRecords(RecordsBase):
    def register(self, item: dict[str, Any]) -> bool:
        """Record a pending image from the main API once; True when it is new here (or taken
        up again: a row this VM failed and reported that ops or its owner have since put back
        to pending).

        A failed row is taken up again only when the listing says it was put back since the
        round this VM processed: its ``queued_at`` (the main API's time of the retry) differs
        from the one the row was registered with. A listing asked for while this VM was giving
        the image up (a poll in flight) names the same round and changes nothing. From a main
        API that does not send ``queued_at``, a failed row listed as pending is taken up again."""
        now = utcnow()
        queued_at = str(item["queued_at"]) if item.get("queued_at") else None
        with self.engine.begin() as conn:
            exists = conn.execute(
                select(media_files.c.id, media_files.c.status, media_files.c.reported, media_files.c.queued_at)
                .where(media_files.c.main_api_id == int(item["id"]))
            ).first()
            if exists:
                put_back = "queued_at" not in item or (queued_at is not None and queued_at != exists.queued_at)
                if exists.status == JobStatus.FAILED.value and exists.reported and put_back:
                    return self._requeue(conn, exists.id, now, item.get("request_id"),
                                         bool(item.get("keep_location", False)), queued_at,
                                         _watermark(item), _source_tool(item))
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
                        request_id=str(item.get("request_id") or "")[:64] or None,
                        keep_location=bool(item.get("keep_location", False)),
                        queued_at=queued_at,
                        watermark=_watermark(item),
                        source_tool=_source_tool(item),
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

    def _requeue(self, conn: Any, file_id: int, now: datetime, request_id: str | None, keep_location: bool,
                 queued_at: str | None, watermark: str | None, source_tool: str | None) -> bool:
        """A failed image listed as pending again: every step from scratch, a fresh media id."""
        changed = conn.execute(
            update(media_files).where(and_(media_files.c.id == file_id,
                                           media_files.c.status == JobStatus.FAILED.value))
            .values(status=JobStatus.QUEUED.value, reported=False, failure_reason=None, media_id=new_media_id(),
                    bulk_path=None, next_attempt_at=None, lease_owner=None, lease_expires_at=None,
                    claim_token=None, updated_at=now, request_id=str(request_id or "")[:64] or None,
                    keep_location=keep_location, queued_at=queued_at, watermark=watermark,
                    source_tool=source_tool)
        ).rowcount
        if changed:
            conn.execute(update(processing_checklist).where(processing_checklist.c.media_file_id == file_id)
                         .values(status=StepStatus.PENDING.value, attempts=0, last_error=None,
                                 started_at=None, finished_at=None))
        return bool(changed)

    def done_after(self, after_id: int, limit: int) -> list[RowMapping]:
        """Up to ``limit`` finished (``done``) rows with an id above ``after_id``, by id: the
        backfill's pages (``media_vm.backfill``)."""
        with self.engine.connect() as conn:
            return list(conn.execute(
                select(media_files).where(and_(media_files.c.id > after_id,
                                               media_files.c.status == JobStatus.DONE.value))
                .order_by(media_files.c.id).limit(limit)).mappings())

    def requeue_steps(self, media_file_id: int, steps: tuple[str, ...]) -> bool:
        """Put a finished (``done``) image back in the queue for ``steps`` only (pending again,
        no attempts), the others staying done; True if it was done (a row in any other state is
        left alone: a worker has it, or it failed)."""
        now = utcnow()
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(media_files).where(and_(media_files.c.id == media_file_id,
                                               media_files.c.status == JobStatus.DONE.value))
                .values(status=JobStatus.QUEUED.value, reported=False, next_attempt_at=None, lease_owner=None,
                        lease_expires_at=None, claim_token=None, updated_at=now)
            ).rowcount
            if changed:
                conn.execute(
                    update(processing_checklist)
                    .where(and_(processing_checklist.c.media_file_id == media_file_id,
                                processing_checklist.c.step.in_(steps)))
                    .values(status=StepStatus.PENDING.value, attempts=0, last_error=None)
                )
        return bool(changed)

    def max_main_api_id(self) -> int:
        """The largest main API id registered here (0 when none): where a long poll resumes."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(media_files.c.main_api_id))).scalar() or 0)


    def claim_next(self, worker_id: str, *, candidates: int = 20) -> Claim | None:
        """Take the next image that is due and not held by a live worker, fairly between users.

        One candidate per user, that user's oldest claimable image; users are served in order
        of (fewest images in flight, served longest ago, oldest candidate), a round-robin over
        the users with work waiting, so one user's backlog holds back another's first image by
        at most one image per worker: Nagle's fair queuing, round-robin over sources (J. Nagle,
        "On packet switches with infinite storage", IEEE Trans. Commun. 35(4), 1987), with
        users as the sources and every image costing the same. Up to ``candidates`` users' heads
        are tried, then up to ``candidates`` of the oldest claimable rows (other workers may
        win the race for the heads). None when nothing can be claimed."""
        now = utcnow()
        claimable = self._claimable(now, worker_id)
        heads = (select(media_files.c.user_id, func.min(media_files.c.id).label("head"))
                 .where(claimable).group_by(media_files.c.user_id).subquery())
        busy = (select(media_files.c.user_id, func.count().label("in_flight"))
                .where(self._in_flight(now)).group_by(media_files.c.user_id).subquery())
        served = (select(media_files.c.user_id, func.max(media_files.c.claimed_at_us).label("last"))
                  .where(media_files.c.user_id.in_(select(heads.c.user_id)))
                  .group_by(media_files.c.user_id).subquery())
        order = (
            select(heads.c.head)
            .select_from(heads.outerjoin(busy, busy.c.user_id == heads.c.user_id)
                         .outerjoin(served, served.c.user_id == heads.c.user_id))
            .order_by(func.coalesce(busy.c.in_flight, 0), func.coalesce(served.c.last, 0), heads.c.head)
            .limit(candidates)
        )
        with self.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(order)]
            # when other workers win every user's head, the oldest claimable rows after them,
            # so losing a race never reads as an empty queue
            ids += [r[0] for r in conn.execute(select(media_files.c.id).where(claimable)
                                               .order_by(media_files.c.id).limit(candidates))
                    if r[0] not in ids]
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
                        claimed_at_us=time.time_ns() // 1000,
                        updated_at=now,
                    )
                ).rowcount
            if changed == 1:
                return Claim(file_id, token, worker_id)
        return None

    @staticmethod
    def _unheld(now: datetime, worker_id: str | None = None) -> ColumnElement[bool]:
        """No live worker holds the row: no lease, an expired lease, or a lease of a worker
        whose heartbeat ran out (never ``worker_id``'s own: a worker that could not write its
        heartbeat for a while, the media DB away, does not take its own images over)."""
        dead = select(worker_heartbeats.c.worker_id).where(worker_heartbeats.c.alive_until < now)
        if worker_id is not None:
            dead = dead.where(worker_heartbeats.c.worker_id != worker_id)
        return or_(media_files.c.lease_expires_at.is_(None), media_files.c.lease_expires_at < now,
                   media_files.c.lease_owner.in_(dead))

    def _claimable(self, now: datetime, worker_id: str) -> ColumnElement[bool]:
        return and_(
            media_files.c.status.in_([JobStatus.QUEUED.value, JobStatus.PROCESSING.value]),
            self._unheld(now, worker_id),
            or_(media_files.c.next_attempt_at.is_(None), media_files.c.next_attempt_at <= now),
        )

    @staticmethod
    def _in_flight(now: datetime) -> ColumnElement[bool]:
        """Rows a worker holds now (its lease runs)."""
        return and_(media_files.c.status.in_([JobStatus.QUEUED.value, JobStatus.PROCESSING.value]),
                    media_files.c.lease_owner.is_not(None), media_files.c.lease_expires_at >= now)

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


    def next_due(self) -> datetime | None:
        """When the next unfinished image that no live lease holds becomes due (None: none left)."""
        now = utcnow()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(media_files.c.next_attempt_at).where(and_(
                    media_files.c.status.in_([JobStatus.QUEUED.value, JobStatus.PROCESSING.value]),
                    self._unheld(now),
                ))
            ).all()
        if not rows:
            return None
        return min((r[0] or datetime.min) for r in rows)


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
