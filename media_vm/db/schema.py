"""The media DB's tables (SQLAlchemy Core), on SQLite or MySQL/MariaDB.

Appending a column or a table here needs a migration in ``migrations.py`` as well.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects import mysql

metadata = MetaData()

#: A DATETIME that keeps microseconds on MySQL/MariaDB too (a bare DATETIME there drops them: a
#: step's time would be 0 or 1000 ms). SQLite keeps them in its text form anyway.
PreciseDateTime = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

media_files = Table(
    "media_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("main_api_id", Integer, nullable=False, unique=True),
    Column("media_id", String(32), nullable=False, unique=True),
    Column("user_id", Integer, nullable=False),
    Column("data_type", String(20), nullable=False),
    Column("image_path", String(500), nullable=False),
    Column("original_name", String(255), nullable=False, default=""),
    Column("mime_type", String(50), nullable=False, default=""),
    # the X-Request-ID of the upload, from the pending list: log lines and callbacks carry it
    Column("request_id", String(64)),
    # the owner keeps the GPS position of their photos (pending list's keep_location); when
    # false the analysis is stored without one
    Column("keep_location", Boolean, nullable=False, default=False, server_default=false()),
    # the main API's queued_at of the round registered (its retry time, as it sent it): a failed
    # row is taken up again only for a later round (queue.register)
    Column("queued_at", String(40)),
    # the text drawn on the sizes of shared.sizes.WATERMARKED_SIZES (pending list's watermark:
    # the artist's username for an artwork); NULL: no watermark
    Column("watermark", String(255)),
    # the tool the upload says made it (pending list's source_tool): its preset's outputs are
    # made too (shared.sizes.presets_for); NULL: none
    Column("source_tool", String(32)),
    Column("status", String(20), nullable=False, index=True),
    Column("bulk_path", String(500)),
    Column("width", Integer),
    Column("height", Integer),
    Column("has_alpha", Boolean, nullable=False, default=False),
    # the claim: who works on it, until when, and a token that fences late writers
    Column("lease_owner", String(120)),
    Column("lease_expires_at", DateTime),
    Column("claim_token", String(32)),
    # when the row was last claimed, in microseconds since the epoch: the claim serves first the
    # user served longest ago (round-robin over users, ``media_vm.db.queue``)
    Column("claimed_at_us", BigInteger),
    Column("next_attempt_at", DateTime),
    # whether the main API has acknowledged the final state (complete or cleanup)
    Column("reported", Boolean, nullable=False, default=False),
    Column("failure_reason", Text),
    Column("processing_seconds", Float),
    # bytes of the original as retrieved (NULL: rows from before it was recorded)
    Column("original_bytes", BigInteger),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("completed_at", DateTime),
    Index("ix_media_files_claim", "status", "next_attempt_at"),
    Index("ix_media_files_user", "user_id", "status"),
    mysql_charset="utf8mb4",
)

processing_checklist = Table(
    "processing_checklist",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("media_file_id", Integer, ForeignKey("media_files.id", ondelete="CASCADE"), nullable=False),
    Column("step", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    # each step's time (steps_ms, media_vm_image_step_milliseconds) is finished_at - started_at
    Column("started_at", PreciseDateTime),
    Column("finished_at", PreciseDateTime),
    UniqueConstraint("media_file_id", "step", name="uq_checklist_step"),
    Index("ix_checklist_status", "status"),
    mysql_charset="utf8mb4",
)

media_ai_analysis = Table(
    "media_ai_analysis",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("media_file_id", Integer, ForeignKey("media_files.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("dominant_colors", JSON),
    Column("detected_objects", JSON),
    Column("detected_text", Text),
    Column("style_classification", JSON),
    Column("medium_detected", String(100)),
    Column("subject_matter", JSON),
    Column("quality_score", Float),
    Column("mood_keywords", JSON),
    Column("confidence_score", Float),
    Column("raw_google_response", JSON),
    Column("raw_gpt4_response", JSON),
    Column("analysis", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    mysql_charset="utf8mb4",
)

#: Per image and output group (``display``: the data type's sizes; else the source tool whose
#: preset outputs they are): bytes written, their ratio to the original's, the image's step time.
#: Written by the callback step (``media_vm.processing_metrics``); read by ``/metrics``.
media_output_stats = Table(
    "media_output_stats",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("media_file_id", Integer, ForeignKey("media_files.id", ondelete="CASCADE"), nullable=False),
    Column("data_type", String(20), nullable=False),
    Column("preset", String(32), nullable=False),
    Column("output_bytes", BigInteger, nullable=False),
    Column("ratio", Float, nullable=False),
    Column("processing_ms", Integer, nullable=False),
    UniqueConstraint("media_file_id", "preset", name="uq_output_stats_preset"),
    mysql_charset="utf8mb4",
)

media_variants = Table(
    "media_variants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("media_file_id", Integer, ForeignKey("media_files.id", ondelete="CASCADE"), nullable=False),
    Column("media_id", String(32), nullable=False),
    Column("size", String(20), nullable=False),
    Column("format", String(10), nullable=False),
    Column("bg", String(10), nullable=False),
    Column("path", String(500), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("media_id", "size", "format", "bg", name="uq_variant"),
    mysql_charset="utf8mb4",
)

worker_heartbeats = Table(
    "worker_heartbeats",
    metadata,
    Column("worker_id", String(120), primary_key=True),
    Column("last_seen", DateTime, nullable=False),
    Column("queue_depth", Integer, nullable=False, default=0),
    Column("last_poll_ok", Boolean, nullable=False, default=True),
    # the process behind the heartbeat, whatever WORKER_ID says (``media_vm.worker.liveness``): its host
    # name (for people), the key that tells one host's processes (boot id and pid namespace),
    # its pid, and until when it counts as alive (three heartbeat periods after its last beat);
    # its claims are taken over past that, or at once when its host sees its pid gone
    Column("host", String(255)),
    Column("host_key", String(120)),
    Column("pid", Integer),
    Column("alive_until", DateTime),
    # Redis wake-ups (``media_vm.wakeups``): whether Redis answered the worker last (NULL: no
    # REDIS_URL) and how many outages its process has seen
    Column("redis_ok", Boolean),
    Column("redis_outages", Integer),
    mysql_charset="utf8mb4",
)

media_fingerprints = Table(
    "media_fingerprints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("media_file_id", Integer, ForeignKey("media_files.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("media_id", String(32), nullable=False, unique=True),
    Column("user_id", Integer, nullable=False, index=True),
    Column("data_type", String(20), nullable=False),
    # 64-bit DCT hash, 16 hex digits; the file's SHA-256 finds byte-identical uploads
    Column("phash", String(16), nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    # the visual embedding (media_vm.imaging.fingerprint), a JSON list of floats
    Column("embedding", JSON, nullable=False),
    Column("embedding_version", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    mysql_charset="utf8mb4",
)

schema_version = Table(
    "schema_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)
