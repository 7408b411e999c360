"""Test databases: SQLite files and throw-away MariaDB/MySQL databases.

``TEST_MYSQL_URL`` names a server to create databases on (``.ci/run`` and
``make test-mysql`` set it). Where it is unset, MySQL cases are reported as skipped with
the reason; under CI (``CI`` set) a missing or unreachable server is an error.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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


MARIADBD = shutil.which("mariadbd") or shutil.which("mysqld") or ("/usr/sbin/mariadbd" if os.path.exists(
    "/usr/sbin/mariadbd") else None)
try:
    import MySQLdb  # noqa: F401 - mysqlclient: `make test-mysql` and CI install it
    HAVE_MYSQLCLIENT = True
except ImportError:
    HAVE_MYSQLCLIENT = False
needs_mariadbd = pytest.mark.skipif(
    not IN_CI and not (MARIADBD and HAVE_MYSQLCLIENT),
    reason="a private MariaDB server needs the mariadbd binary and mysqlclient (make test-mysql installs it)",
)


class PrivateMariaDB:
    """A MariaDB server of the test's own (temp datadir, free port) that a test may stop and
    start again without disturbing the shared server other tests use."""

    def __init__(self, root: Path) -> None:
        if not MARIADBD:
            raise RuntimeError("mariadbd not found: install mariadb-server")
        self.root = root
        self.datadir = root / "data"
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        subprocess.run([install, "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=180)

    def start(self) -> None:
        log = open(self.root / "mariadbd.log", "ab")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(
            [MARIADBD, "--no-defaults", f"--datadir={self.datadir}", f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--socket={self.root / 'mariadb.sock'}", "--user=root",
             "--skip-grant-tables", "--innodb-buffer-pool-size=32M", f"--pid-file={self.root / 'mariadb.pid'}"],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                _admin_connect(self.url("")).close()
                return
            except ImportError:
                raise  # no mysqlclient: waiting will not help
            except Exception as e:  # noqa: BLE001 - not up yet
                error = e
                if self.proc.poll() is not None:
                    raise RuntimeError((self.root / "mariadbd.log").read_text()[-2000:]) from None
                time.sleep(0.2)
        self.stop()  # never leave a server behind
        raise TimeoutError(f"private mariadbd did not answer within 60 s: {error!r}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=60)

    def url(self, database: str) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        conn = _admin_connect(self.url(""))
        conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        conn.close()
        return self.url(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
