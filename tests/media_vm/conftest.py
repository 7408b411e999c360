from __future__ import annotations

import pytest

from tests.helpers.databases import DB_KINDS, media_database


@pytest.fixture(params=DB_KINDS)
def media_db_url(request, tmp_path):
    """A fresh media DB on SQLite and (where TEST_MYSQL_URL is set) on MariaDB/MySQL."""
    with media_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def repo(media_db_url):
    from media_vm.db import Repository, make_engine, migrate

    engine = make_engine(media_db_url)
    migrate(engine)
    yield Repository(engine, lease_seconds=60)
    engine.dispose()
