"""Erasing a deleted upload from the media DB: stopping any work on it, then removing every row
of it (the ``media_files`` row, its checklist, analysis, fingerprint and variant rows).

Stopping uses the claim fencing of ``queue``: the row gets a new ``claim_token`` held by
:data:`DELETING`, so a worker that is on the image meets :class:`LeaseLost` at its next write
and drops it; its status becomes ``failed`` (reported), so nobody claims it or reports it again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.engine import RowMapping

from media_vm.checklist import JobStatus
from media_vm.db.base import RecordsBase
from media_vm.db.engine import utcnow
from media_vm.db.schema import (
    media_ai_analysis,
    media_files,
    media_fingerprints,
    media_variants,
    processing_checklist,
)

#: The lease owner of an image being erased.
DELETING = "(deleting)"
#: ``failure_reason`` of an image stopped because its upload was deleted.
DELETED_REASON = "deleted by its owner"


@dataclass(frozen=True)
class Doomed:
    """An image held for erasure: its row (as it was before), and ``busy``: a worker was on it
    (or was, less than a lease ago), so files it is still writing may appear until ``until``."""

    row: RowMapping
    busy: bool
    until: datetime | None


class DeletionRecords(RecordsBase):
    def deletion_hold(self, *, main_api_id: int, media_id: str | None) -> Doomed | None:
        """Find the image of a deleted upload (by the main API's id, or its media id) and stop
        all work on it; None when this media DB has nothing of it.

        A row a worker holds with a live lease is fenced off (new token) and stays held by
        :data:`DELETING` for a lease: files the worker is writing meanwhile are erased once the
        hold expires (``busy``). Repeating it is harmless: an expired hold is not renewed.
        """
        now = utcnow()
        match = media_files.c.main_api_id == int(main_api_id)
        if media_id:
            match = or_(match, media_files.c.media_id == media_id)
        with self.engine.begin() as conn:
            row = conn.execute(select(media_files).where(match).order_by(media_files.c.id)).mappings().first()
            if row is None:
                return None
            live = row["lease_expires_at"] is not None and row["lease_expires_at"] > now
            if row["lease_owner"] == DELETING:
                until = row["lease_expires_at"] if live else None
            else:
                until = now + timedelta(seconds=self.lease_seconds) if live and row["lease_owner"] else None
            conn.execute(update(media_files).where(media_files.c.id == row["id"]).values(
                status=JobStatus.FAILED.value, reported=True, failure_reason=DELETED_REASON,
                lease_owner=DELETING, claim_token=secrets.token_hex(16), lease_expires_at=until or now,
                next_attempt_at=None, updated_at=now,
            ))
        return Doomed(row=row, busy=until is not None, until=until)

    def deletion_names(self, media_file_id: int) -> set[str]:
        """The storage names the media DB records for the image: its original and variants."""
        with self.engine.connect() as conn:
            names = {r[0] for r in conn.execute(
                select(media_variants.c.path).where(media_variants.c.media_file_id == media_file_id))}
            bulk = conn.execute(select(media_files.c.bulk_path).where(media_files.c.id == media_file_id)).scalar()
        return names | ({bulk} if bulk else set())

    def erase(self, media_file_id: int) -> None:
        """Remove every row of the image in one transaction (the foreign keys cascade only where
        the database enforces them, so each table is named)."""
        with self.engine.begin() as conn:
            for table in (media_variants, media_ai_analysis, media_fingerprints, processing_checklist):
                conn.execute(delete(table).where(table.c.media_file_id == media_file_id))
            conn.execute(delete(media_files).where(and_(media_files.c.id == media_file_id,
                                                        media_files.c.lease_owner == DELETING)))
