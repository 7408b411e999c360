from __future__ import annotations

import pytest

from tests.helpers.system import running_system


@pytest.fixture
def fresh_system(tmp_path):
    """Start a whole system with extra environment: ``with fresh_system(LEASE_SECONDS=2) as s``."""

    def start(**extra_env):
        return running_system(tmp_path, extra_env={k: str(v) for k, v in extra_env.items()})

    return start


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    with running_system(tmp_path_factory.mktemp("system")) as s:
        yield s


@pytest.fixture
def private_mariadb(tmp_path):
    """A MariaDB server of this test's own, which the test may stop and start; stopped after
    the test whatever happened (a failed start stops it too)."""
    from tests.helpers.databases import PrivateMariaDB, require_private_mariadb

    require_private_mariadb()
    server = PrivateMariaDB(tmp_path / "mariadb")
    try:
        server.start()
        yield server
    finally:
        server.stop()
