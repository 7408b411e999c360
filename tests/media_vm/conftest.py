from __future__ import annotations

import pytest


@pytest.fixture
def repo(media_db_url):
    from media_vm.db import Repository, make_engine, migrate

    engine = make_engine(media_db_url)
    migrate(engine)
    yield Repository(engine, lease_seconds=60)
    engine.dispose()
