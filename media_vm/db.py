"""The media DB: schema, migrations and the engine, on SQLite or MySQL/MariaDB.

The VM owns this schema and migrates it itself (``python -m media_vm migrate`` or on
start): ``schema_version`` holds the number of the last migration applied.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import (
    JSON,
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
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

metadata = MetaData()

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
    Column("status", String(20), nullable=False, index=True),
    Column("bulk_path", String(500)),
    Column("width", Integer),
    Column("height", Integer),
    Column("has_alpha", Boolean, nullable=False, default=False),
    # the claim: who works on it, until when, and a token that fences late writers
    Column("lease_owner", String(120)),
    Column("lease_expires_at", DateTime),
    Column("claim_token", String(32)),
    Column("next_attempt_at", DateTime),
    # whether the main API has acknowledged the final state (complete or cleanup)
    Column("reported", Boolean, nullable=False, default=False),
    Column("failure_reason", Text),
    Column("processing_seconds", Float),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("completed_at", DateTime),
    Index("ix_media_files_claim", "status", "next_attempt_at"),
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
    Column("started_at", DateTime),
    Column("finished_at", DateTime),
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


def _migration_1(conn: Connection) -> None:
    """The first schema: every table above."""
    metadata.create_all(conn)


def _migration_2(conn: Connection) -> None:
    """``media_fingerprints`` (perceptual hash and embedding per image, for /similar).

    ``checkfirst``: migration 1 creates every table of ``metadata``, so on a new database
    it has already made this one.
    """
    media_fingerprints.create(conn, checkfirst=True)


#: Applied in order; append new ones, never edit an applied one.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_migration_1, _migration_2)


def make_engine(url: str) -> Engine:
    """An engine for ``sqlite:///...`` or ``mysql://...`` (mysqlclient)."""
    if url.startswith("mysql://"):
        url = "mysql+mysqldb://" + url[len("mysql://"):]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            # WAL lets the server read while a worker writes; busy_timeout waits for the lock
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_recycle=1800, isolation_level="READ COMMITTED")


def current_version(conn: Connection) -> int:
    if not conn.dialect.has_table(conn, "schema_version"):
        return 0
    row = conn.execute(select(schema_version.c.version).where(schema_version.c.id == 1)).first()
    return int(row[0]) if row else 0


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One migrator at a time across processes and hosts (gunicorn workers and VM workers
    all migrate on start): a named lock on MySQL, a file lock beside a SQLite file."""
    if engine.dialect.name == "mysql":
        with engine.connect() as conn:
            got = conn.execute(text("SELECT GET_LOCK('media_vm_migrate', 120)")).scalar()
            if got != 1:
                raise RuntimeError("could not take the media DB migration lock within 120 s")
            try:
                yield
            finally:
                conn.execute(text("SELECT RELEASE_LOCK('media_vm_migrate')"))
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def migrate(engine: Engine) -> int:
    """Apply the migrations not applied yet; returns the schema version now in force."""
    with _migration_lock(engine), engine.begin() as conn:
        version = current_version(conn)
        for number, migration in enumerate(MIGRATIONS, start=1):
            if number <= version:
                continue
            log.info("media DB: applying migration %s", number)
            migration(conn)
            if number == 1:
                conn.execute(schema_version.insert().values(id=1, version=1))
            else:
                conn.execute(schema_version.update().where(schema_version.c.id == 1).values(version=number))
            version = number
    return version


def ping(engine: Engine) -> None:
    """Raise if the database does not answer."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
