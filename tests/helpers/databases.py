"""Test databases: SQLite files and throw-away MariaDB/MySQL databases.

``TEST_MYSQL_URL`` names a server to create databases on (``.ci/run``, ``make test-mysql``,
and ``make test`` where a MariaDB answers at 127.0.0.1:3306 set it). Where it is unset, MySQL
cases are reported as skipped with the reason; under CI (``CI`` set) a missing or unreachable
server is an error.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.helpers.processes import free_port, stop

TEST_MYSQL_URL = os.environ.get("TEST_MYSQL_URL", "")
IN_CI = bool(os.environ.get("CI"))

if IN_CI and not TEST_MYSQL_URL:
    raise RuntimeError("CI is set but TEST_MYSQL_URL is not: the MySQL tests would not run")

needs_mysql = pytest.mark.skipif(
    not TEST_MYSQL_URL,
    reason="TEST_MYSQL_URL not set (make test sets it when a MariaDB answers at 127.0.0.1:3306 and mysqlclient "
    "installs)",
)


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
MARIADB_INSTALL_DB = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
try:
    import MySQLdb  # noqa: F401 - mysqlclient: `make test` installs it where a MariaDB answers, CI always
    HAVE_MYSQLCLIENT = True
except ImportError:
    HAVE_MYSQLCLIENT = False


def private_mariadb_missing() -> list[str]:
    """What this machine lacks to start a private MariaDB server and talk to it (empty: nothing)."""
    missing = []
    if not MARIADBD:
        missing.append("the mariadbd binary (apt-get install mariadb-server)")
    if not MARIADB_INSTALL_DB:
        missing.append("mariadb-install-db (apt-get install mariadb-server)")
    if not HAVE_MYSQLCLIENT:
        missing.append("mysqlclient, to connect to it (make test installs it when a MariaDB answers at "
                       "127.0.0.1:3306; else: apt-get install libmariadb-dev pkg-config, pip install -e '.[mysql]')")
    return missing


def require_private_mariadb() -> None:
    """Skip the test, with what is missing, outside CI; fail it under CI, which must run it."""
    missing = private_mariadb_missing()
    if missing:
        reason = "a private MariaDB server needs " + "; ".join(missing)
        if IN_CI:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


needs_mariadbd = pytest.mark.skipif(
    not IN_CI and bool(private_mariadb_missing()),
    reason="a private MariaDB server needs " + "; ".join(private_mariadb_missing()),
)


class PrivateMariaDB:
    """A MariaDB server of the test's own (temp datadir, free port) that a test may stop and
    start again without disturbing the shared server other tests use.

    The server runs in a process group of its own; :meth:`start` leaves no server behind when
    it fails (or is interrupted), and :meth:`stop` kills the group if it does not end in time.
    """

    def __init__(self, root: Path, *, start_timeout: float = 60) -> None:
        missing = private_mariadb_missing()
        if missing:
            raise RuntimeError("a private MariaDB server needs " + "; ".join(missing))
        self.root = root
        self.datadir = root / "data"
        self.port = free_port()
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run([MARIADB_INSTALL_DB, "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=180)

    def _log_tail(self) -> str:
        path = self.root / "mariadbd.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"

    def start(self) -> None:
        assert MARIADBD is not None
        with open(self.root / "mariadbd.log", "ab") as log:
            self.proc = subprocess.Popen(
                [MARIADBD, "--no-defaults", f"--datadir={self.datadir}", f"--port={self.port}",
                 "--bind-address=127.0.0.1", f"--socket={self.root / 'mariadb.sock'}", "--user=root",
                 "--skip-grant-tables", "--innodb-buffer-pool-size=32M", f"--pid-file={self.root / 'mariadb.pid'}"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_until_it_answers()
        except BaseException:
            self.stop()  # failed or interrupted: never leave a server behind
            raise

    def _wait_until_it_answers(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.start_timeout
        error: Exception | None = None
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"private mariadbd exited with code {self.proc.returncode} while starting; "
                                   f"its log ends:\n{self._log_tail()}")
            try:
                _admin_connect(self.url("")).close()
                return
            except Exception as e:  # noqa: BLE001 - not up yet
                error = e
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"private mariadbd (pid {self.proc.pid}) was running but did not accept a connection on "
                    f"127.0.0.1:{self.port} within {self.start_timeout:g} s; last error: {error!r}; "
                    f"its log ends:\n{self._log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop the server (SIGTERM to its process group, SIGKILL after 60 s); safe to call twice."""
        proc, self.proc = self.proc, None
        if proc is not None:  # started as its group's leader: what it left in the group goes too
            stop(proc, timeout=60, group=True)

    def url(self, database: str) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        conn = _admin_connect(self.url(""))
        conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        conn.close()
        return self.url(name)

