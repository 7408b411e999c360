"""Fixtures every part of the suite may use."""

from __future__ import annotations

import pytest

from tests.helpers.databases import DB_KINDS, media_database
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


@pytest.fixture(params=DB_KINDS)
def media_db_url(request, tmp_path):
    """A fresh media DB on SQLite and (where TEST_MYSQL_URL is set) on MariaDB/MySQL."""
    with media_database(request.param, tmp_path) as url:
        yield url


#: The suite's tiers, each selected by a marker of the same name:
#:
#: - ``unit``: touches no database (pure functions, images in memory, parsers, the storage
#:   contract); run once.
#: - ``in_process``: a database, Django's test client or ``live_server``, the media VM's worker
#:   driven in the test process; run on SQLite and on MariaDB.
#: - ``system``: the services as real processes (``tests/system/``: end to end, faults,
#:   deployment); run once, on MariaDB in CI.
#: - ``browser``: headless Chromium against the real system (``tests/browser/``); run once, on
#:   SQLite as ``make run`` sets it up.
#:
#: The mirrors of the code (``tests/main_api``, ``tests/media_vm``, ``tests/shared``) hold the
#: unit and in-process tests: a module listed in :data:`UNIT` is unit, every other one in-process.
#: This is the one place a module's tier is decided.
TIER_FOLDERS = {"tests/system/": "system", "tests/browser/": "browser"}
UNIT = (
    "tests/test_suite_layout.py",
    "tests/shared/",
    "tests/media_vm/imaging/",
    "tests/media_vm/storage/",
    "tests/media_vm/test_checklist.py",
    "tests/media_vm/test_config.py",
    "tests/media_vm/worker/test_policy.py",
    "tests/media_vm/worker/test_retry.py",
    "tests/media_vm/test_import_graph.py",
    "tests/media_vm/test_providers.py",
    "tests/media_vm/test_api_client.py",
    "tests/media_vm/test_seed_redis_worker.py",
    "tests/main_api/test_layering.py",
    "tests/main_api/media/test_failure_reasons.py",
)
TIERS = ("unit", "in_process", "system", "browser")


def tier_of(relative: str) -> str:
    """The tier of the test module at ``relative`` (a path from the checkout's root, with ``/``)."""
    for folder, tier in TIER_FOLDERS.items():
        if relative.startswith(folder):
            return tier
    return "unit" if relative.startswith(UNIT) else "in_process"


def pytest_collection_modifyitems(config, items):
    root = config.rootpath
    for item in items:
        item.add_marker(getattr(pytest.mark, tier_of(item.path.relative_to(root).as_posix())))
