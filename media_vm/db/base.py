"""What every part of the repository shares: the engine, the lease and the fenced write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Engine, RowMapping

from media_vm.db.engine import utcnow
from media_vm.db.schema import media_files
from media_vm.exceptions import LeaseLost


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one image: the row's id and the token that fences it."""

    media_file_id: int
    token: str
    worker_id: str


class RecordsBase:
    """The engine and the claim fencing; each concept's records subclass it."""

    def __init__(self, engine: Engine, *, lease_seconds: int = 300) -> None:
        self.engine = engine
        self.lease_seconds = lease_seconds

    def renew(self, claim: Claim) -> None:
        """Extend the lease; raises LeaseLost when another worker holds the row now."""
        now = utcnow()
        self._fenced_update(claim, lease_expires_at=now + timedelta(seconds=self.lease_seconds), updated_at=now)


    def _fenced_update(self, claim: Claim, **values: Any) -> None:
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(media_files)
                .where(and_(media_files.c.id == claim.media_file_id, media_files.c.claim_token == claim.token))
                .values(**values)
            ).rowcount
        if changed != 1:
            raise LeaseLost(f"media file {claim.media_file_id}: lease of {claim.worker_id} was taken over")

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
