"""Fingerprints of images (perceptual hash, SHA-256, embedding): similarity and duplicates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import RowMapping

from media_vm.db.base import Claim, RecordsBase
from media_vm.db.engine import utcnow
from media_vm.db.schema import media_files, media_fingerprints


class FingerprintRecords(RecordsBase):
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
