"""Test databases: SQLite files and throw-away MariaDB/MySQL databases.

``TEST_MYSQL_URL`` names a server to create databases on (``.ci/run`` and
``make test-mysql`` set it). Where it is unset, MySQL cases are reported as skipped with
the reason; under CI (``CI`` set) a missing or unreachable server is an error.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

TEST_MYSQL_URL = os.environ.get("TEST_MYSQL_URL", "")
IN_CI = bool(os.environ.get("CI"))

if IN_CI and not TEST_MYSQL_URL:
    raise RuntimeError("CI is set but TEST_MYSQL_URL is not: the MySQL tests would not run")

needs_mysql = pytest.mark.skipif(not TEST_MYSQL_URL, reason="TEST_MYSQL_URL not set (make test-mysql runs these)")


def _admin_connect(url: str):  # type: ignore[no-untyped-def]
    import MySQLdb

    parts = urlsplit(url)
    return MySQLdb.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
                           user=parts.username or "root", passwd=parts.password or "", charset="utf8mb4")


@contextmanager
def fresh_mysql_database(base_url: str = TEST_MYSQL_URL) -> Iterator[str]:
    """Create an empty database on the server of ``base_url``; yields its URL; drops it after."""
    name = f"test_media_{secrets.token_hex(4)}"
    conn = _admin_connect(base_url)
    try:
        conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        parts = urlsplit(base_url)
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    finally:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


@contextmanager
def media_database(kind: str, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh, empty media DB URL of the given kind ("sqlite" or "mysql")."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'media_vm.sqlite3'}"
    else:
        with fresh_mysql_database() as url:
            yield url


DB_KINDS = [pytest.param("sqlite", id="sqlite"), pytest.param("mysql", id="mysql", marks=[needs_mysql])]
