"""What the steps produce: the original's name, the analysis and the variants."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import RowMapping

from media_vm.db.base import Claim, RecordsBase
from media_vm.db.engine import utcnow
from media_vm.db.schema import media_ai_analysis, media_files, media_output_stats, media_variants
from shared.payloads import ANALYSIS_FIELDS


class ResultsRecords(RecordsBase):
    def variants(self, media_id: str) -> list[RowMapping]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(media_variants).where(media_variants.c.media_id == media_id)).mappings())

    def variant_sizes(self, media_ids: Iterable[str], *, bg: str = "original") -> dict[str, set[str]]:
        """``{media id: the size names it has a variant of}`` (background ``bg``) for many images
        in one query; an image without variants is absent."""
        ids = list(media_ids)
        found: dict[str, set[str]] = {}
        if not ids:
            return found
        query = (select(media_variants.c.media_id, media_variants.c.size).distinct()
                 .where(and_(media_variants.c.media_id.in_(ids), media_variants.c.bg == bg)))
        with self.engine.connect() as conn:
            for media_id, size in conn.execute(query):
                found.setdefault(media_id, set()).add(size)
        return found

    def analysis(self, media_file_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(media_ai_analysis.c.analysis).where(media_ai_analysis.c.media_file_id == media_file_id)
            ).first()
        return dict(row[0]) if row else None


    def save_original(self, claim: Claim, bulk_path: str, original_bytes: int | None = None) -> None:
        self._fenced_update(claim, bulk_path=bulk_path, original_bytes=original_bytes, updated_at=utcnow())

    def save_metrics(self, claim: Claim, metrics: dict[str, Any]) -> None:
        """Keep an image's processing metrics (``media_vm.processing_metrics.image_metrics``): in
        its analysis record (``analysis["processing"]``, which the callback carries) and one
        ``media_output_stats`` row per output group (read by ``/metrics``). Fenced by the claim."""
        self.renew(claim)
        row = self.media_file(claim.media_file_id)
        with self.engine.begin() as conn:
            stored = conn.execute(select(media_ai_analysis.c.analysis)
                                  .where(media_ai_analysis.c.media_file_id == claim.media_file_id)).first()
            if stored is not None:
                conn.execute(update(media_ai_analysis)
                             .where(media_ai_analysis.c.media_file_id == claim.media_file_id)
                             .values(analysis={**dict(stored[0]), "processing": metrics}))
            conn.execute(delete(media_output_stats).where(media_output_stats.c.media_file_id == claim.media_file_id))
            groups = [{"media_file_id": claim.media_file_id, "data_type": row["data_type"], "preset": preset,
                       "output_bytes": int(group["output_bytes"]), "ratio": float(group["compression_ratio"]),
                       "processing_ms": int(metrics["processing_ms"])}
                      for preset, group in metrics["outputs"].items() if group["compression_ratio"] is not None]
            if groups:
                conn.execute(insert(media_output_stats), groups)

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

    def add_variants(self, claim: Claim, media_id: str, variants: Iterable[dict[str, Any]]) -> None:
        """Register ``variants`` (each ``{size, format, bg, path, width, height, bytes}``) next to
        those the image has, replacing any of the same size, format and background: the
        thumbnail set first, the other sizes later. Fenced by the claim like every write."""
        self.renew(claim)
        now = utcnow()
        rows = [{**v, "media_file_id": claim.media_file_id, "media_id": media_id, "created_at": now} for v in variants]
        if not rows:
            return
        with self.engine.begin() as conn:
            for row in rows:
                conn.execute(delete(media_variants).where(and_(
                    media_variants.c.media_file_id == claim.media_file_id, media_variants.c.size == row["size"],
                    media_variants.c.format == row["format"], media_variants.c.bg == row["bg"])))
            conn.execute(insert(media_variants), rows)

    def stored_names(self) -> set[str]:
        """Every storage name the media DB records: originals (``bulk/...``) and variants
        (``library/...``)."""
        with self.engine.connect() as conn:
            originals = {r[0] for r in conn.execute(select(media_files.c.bulk_path).where(
                media_files.c.bulk_path.is_not(None)))}
            variants = {r[0] for r in conn.execute(select(media_variants.c.path))}
        return originals | variants
