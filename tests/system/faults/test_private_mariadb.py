"""The private MariaDB server of the outage tests: its preconditions are checked first and
named, and no ``mariadbd`` outlives a start that failed, was interrupted, or a test's end."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import databases
from tests.helpers.databases import PrivateMariaDB

needs_binaries = pytest.mark.skipif(
    not (databases.MARIADBD and databases.MARIADB_INSTALL_DB) and not databases.IN_CI,
    reason="needs the mariadbd and mariadb-install-db binaries (apt-get install mariadb-server)",
)


def running_on(datadir: Path) -> list[int]:
    """Pids of the processes whose command line names ``datadir``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(datadir).encode() in cmdline:
            found.append(int(entry.name))
    return found


def test_without_mysqlclient_it_is_skipped_with_the_reason_and_starts_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(databases, "HAVE_MYSQLCLIENT", False)
    monkeypatch.setattr(databases, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="mysqlclient"):
        databases.require_private_mariadb()
    with pytest.raises(RuntimeError, match="mysqlclient"):
        PrivateMariaDB(tmp_path / "mariadb")
    assert not (tmp_path / "mariadb").exists()  # nothing installed, nothing started


def test_under_ci_a_missing_precondition_fails_the_test(monkeypatch):
    monkeypatch.setattr(databases, "HAVE_MYSQLCLIENT", False)
    monkeypatch.setattr(databases, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="mysqlclient"):
        databases.require_private_mariadb()


@needs_binaries
@pytest.mark.parametrize(("failure", "raised"), [(ConnectionRefusedError("simulated: no answer"), TimeoutError),
                                                 (KeyboardInterrupt(), KeyboardInterrupt)],
                         ids=["never-answers", "interrupted"])
def test_a_start_that_fails_leaves_no_server_and_says_what_happened(monkeypatch, tmp_path, failure, raised):
    monkeypatch.setattr(databases, "HAVE_MYSQLCLIENT", True)  # the connection is what fails here

    def connect(url: str):  # type: ignore[no-untyped-def]
        raise failure

    monkeypatch.setattr(databases, "_admin_connect", connect)
    server = PrivateMariaDB(tmp_path / "mariadb", start_timeout=3)
    with pytest.raises(raised) as caught:
        server.start()
    if raised is TimeoutError:
        message = str(caught.value)
        assert "was running but did not accept a connection" in message
        assert "simulated: no answer" in message
    assert server.proc is None
    assert running_on(server.datadir) == []


@needs_binaries
def test_a_server_that_exits_while_starting_is_reported_with_its_log(monkeypatch, tmp_path):
    monkeypatch.setattr(databases, "HAVE_MYSQLCLIENT", True)
    server = PrivateMariaDB(tmp_path / "mariadb", start_timeout=30)
    (server.datadir / "mysql").rename(server.datadir / "not-mysql")  # no system tables: it gives up
    (server.datadir / "ibdata1").unlink()
    (server.datadir / "ibdata1").mkdir()  # InnoDB cannot open its system tablespace
    with pytest.raises(RuntimeError, match="exited with code"):
        server.start()
    assert running_on(server.datadir) == []


@databases.needs_mariadbd
def test_the_fixture_server_answers_and_is_gone_after_stop(tmp_path):
    databases.require_private_mariadb()
    server = PrivateMariaDB(tmp_path / "mariadb")
    try:
        server.start()
        pid = server.proc.pid if server.proc else 0
        conn = databases._admin_connect(server.url(""))
        conn.cursor().execute("SELECT 1")
        conn.close()
    finally:
        server.stop()
        server.stop()  # twice is harmless
    assert running_on(server.datadir) == []
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
