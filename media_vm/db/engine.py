"""Engines for the media DB, and its clock."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine


def utcnow() -> datetime:
    """Naive UTC, as the DATETIME columns store it, microseconds kept (a step's time is the
    difference of two of these; MySQL's plain DATETIME columns drop the fraction themselves)."""
    return datetime.now(UTC).replace(tzinfo=None)


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


def ping(engine: Engine) -> None:
    """Raise if the database does not answer."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
