"""Fixtures every part of the suite may use."""

from __future__ import annotations

import pytest

from tests.helpers.s3 import new_bucket, s3_server


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """A real S3-compatible server (moto's), one for the whole run."""
    with s3_server(tmp_path_factory.mktemp("s3")) as url:
        yield url


@pytest.fixture
def s3_bucket(s3_endpoint):
    """A fresh, empty bucket on it."""
    return new_bucket(s3_endpoint)


#: Tests that touch no database (pure image code, pure functions, parsers): CI's second run,
#: the MariaDB one, leaves them out (``-m "not no_database"``); ``make test`` runs them.
NO_DATABASE = (
    "tests/shared/",
    "tests/media_vm/imaging/",
    "tests/media_vm/storage/",
    "tests/media_vm/test_checklist.py",
    "tests/media_vm/worker/test_policy.py",
    "tests/media_vm/worker/test_retry.py",
    "tests/media_vm/test_import_graph.py",
    "tests/media_vm/test_providers.py",
    "tests/media_vm/test_api_client.py",
    "tests/media_vm/test_seed_redis_worker.py",
    "tests/main_api/test_layering.py",
    "tests/main_api/media/test_failure_reasons.py",
)


def pytest_collection_modifyitems(config, items):
    root = config.rootpath
    for item in items:
        relative = item.path.relative_to(root).as_posix()
        if relative.startswith(NO_DATABASE):
            item.add_marker(pytest.mark.no_database)
