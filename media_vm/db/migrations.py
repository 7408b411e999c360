"""Migrations of the media DB: ``schema_version`` holds the number of the last one applied.

The VM owns this schema and migrates it itself (``python -m media_vm migrate`` or on start).
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from media_vm.db.schema import (
    media_fingerprints,
    media_output_stats,
    metadata,
    processing_checklist,
    schema_version,
)

log = logging.getLogger(__name__)


def _migration_1(conn: Connection) -> None:
    """The first schema: every table above."""
    metadata.create_all(conn)


def _migration_2(conn: Connection) -> None:
    """``media_fingerprints`` (perceptual hash and embedding per image, for /similar).

    ``checkfirst``: migration 1 creates every table of ``metadata``, so on a new database
    it has already made this one.
    """
    media_fingerprints.create(conn, checkfirst=True)


def _migration_3(conn: Connection) -> None:
    """``media_files.request_id``: the upload's request id, kept with the row instead of in a
    worker's memory, so every worker and the healer log and call back with it."""
    if "request_id" in {c["name"] for c in inspect(conn).get_columns("media_files")}:
        return  # a new database: migration 1 made the table with it
    column = String(64).compile(dialect=conn.dialect)
    conn.execute(text(f"ALTER TABLE media_files ADD COLUMN request_id {column}"))


def _migration_4(conn: Connection) -> None:
    """Fair claims and quick takeover of a dead worker's claims: ``media_files.claimed_at_us``
    (round-robin over users) with an index by user, and the process behind each heartbeat
    (``worker_heartbeats.host``, ``host_key``, ``pid``, ``alive_until``)."""
    inspector = inspect(conn)
    _add_columns(conn, "media_files", {"claimed_at_us": BigInteger()})
    if "ix_media_files_user" not in {i["name"] for i in inspector.get_indexes("media_files")}:
        conn.execute(text("CREATE INDEX ix_media_files_user ON media_files (user_id, status)"))
    _add_columns(conn, "worker_heartbeats", {"host": String(255), "host_key": String(120), "pid": Integer(),
                                             "alive_until": DateTime()})


def _add_columns(conn: Connection, table: str, columns: dict[str, Any]) -> None:
    """``ALTER TABLE ... ADD COLUMN`` for each column the table lacks (a new database has them
    all already: migration 1 creates the tables as ``schema`` describes them now)."""
    present = {c["name"] for c in inspect(conn).get_columns(table)}
    for name, type_ in columns.items():
        if name not in present:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {type_.compile(dialect=conn.dialect)}"))


def _migration_5(conn: Connection) -> None:
    """``media_files.keep_location``: whether the owner keeps the GPS position of their photos
    (false: the analysis is stored without one). Rows from before it: false, the private default."""
    if "keep_location" in {c["name"] for c in inspect(conn).get_columns("media_files")}:
        return  # a new database: migration 1 made the table with it
    conn.execute(text("ALTER TABLE media_files ADD COLUMN keep_location BOOLEAN NOT NULL DEFAULT FALSE"))


def _migration_6(conn: Connection) -> None:
    """The ``make_thumbnail`` step in the checklist of every image registered before it: done
    where ``resize_optimize`` is (its variants include the thumbnail), else pending (then it
    makes the thumbnail first, and ``resize_optimize`` the sizes that are left)."""
    resize = {row.media_file_id: row.status for row in conn.execute(
        select(processing_checklist.c.media_file_id, processing_checklist.c.status)
        .where(processing_checklist.c.step == "resize_optimize"))}
    have = set(conn.execute(select(processing_checklist.c.media_file_id)
                            .where(processing_checklist.c.step == "make_thumbnail")).scalars())
    rows = [{"media_file_id": file_id, "step": "make_thumbnail", "status": "done" if status == "done" else "pending",
             "attempts": 0} for file_id, status in resize.items() if file_id not in have]
    if rows:
        conn.execute(processing_checklist.insert(), rows)


def _migration_7(conn: Connection) -> None:
    """``media_files.queued_at``: the main API's retry time of the round registered, so that a
    listing in flight while the worker gave an image up does not take it up again."""
    _add_columns(conn, "media_files", {"queued_at": String(40)})


def _migration_8(conn: Connection) -> None:
    """``media_files.watermark``: the text the variants of ``shared.sizes.WATERMARKED_SIZES``
    carry (the pending list's ``watermark``, an artwork's artist), kept with the row so that every
    step, a retry and the healer's re-run draw the same one. Rows from before it: NULL, none."""
    _add_columns(conn, "media_files", {"watermark": String(255)})


def _migration_9(conn: Connection) -> None:
    """``media_files.source_tool``: the tool the upload says made it (the pending list's
    ``source_tool``), whose preset outputs (``shared.sizes.presets_for``) are made with its
    sizes. Rows from before it: NULL, none."""
    _add_columns(conn, "media_files", {"source_tool": String(32)})


def _migration_10(conn: Connection) -> None:
    """Processing metrics: ``media_files.original_bytes`` and the ``media_output_stats`` table
    (bytes and ratio per output group, step time per image; ``media_vm.processing_metrics``)."""
    _add_columns(conn, "media_files", {"original_bytes": BigInteger()})
    media_output_stats.create(conn, checkfirst=True)


def _migration_11(conn: Connection) -> None:
    """``worker_heartbeats.redis_ok`` and ``redis_outages``: each worker's Redis wake-ups as
    its heartbeat last wrote them (``media_vm_redis_up``, ``media_vm_redis_outages_total``).
    NULL for a worker without ``REDIS_URL``."""
    _add_columns(conn, "worker_heartbeats", {"redis_ok": Boolean(), "redis_outages": Integer()})


def _migration_12(conn: Connection) -> None:
    """``processing_checklist.started_at`` and ``finished_at`` with microseconds on MySQL/MariaDB
    (``DATETIME(6)``; a plain ``DATETIME`` timed every step to 0 or 1000 ms). SQLite stores them
    as text with their microseconds already: nothing to do there."""
    if conn.dialect.name != "mysql":
        return
    conn.execute(text("ALTER TABLE processing_checklist MODIFY started_at DATETIME(6) NULL, "
                      "MODIFY finished_at DATETIME(6) NULL"))


#: Applied in order; append new ones, never edit an applied one.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _migration_1, _migration_2, _migration_3, _migration_4, _migration_5, _migration_6, _migration_7,
    _migration_8, _migration_9, _migration_10, _migration_11, _migration_12,
)


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
