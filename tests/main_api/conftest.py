"""Fixtures of the main API tests: settings pointed at tmp_path, users, clients."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from main_api.users.services import user_create
from tests.main_api import support


@pytest.fixture(autouse=True)
def main_api_settings(settings, tmp_path, request):
    """Temp images under tmp_path, a known media key, a recognisable smart URL base."""
    settings.TEMP_IMAGES_DIR = tmp_path / "temp_images"
    settings.MEDIA_API_KEYS = [support.MEDIA_KEY]
    settings.SMART_MEDIA_BASE_URL = "https://cdn.example.test/api/images"
    settings.MAX_UPLOAD_BYTES = 5 * 1024 * 1024
    settings.MAX_IMAGE_PIXELS = 100_000_000
    # upload budgets live in the database cache's table, which a transactional test's flush
    # leaves alone, and SQLite reuses user ids across tests (tests without a database skip it)
    if request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames):
        request.getfixturevalue("db")  # the database now (transactional_db or the marker still decide how)
        cache.clear()
    return settings


@pytest.fixture
def temp_dir(main_api_settings):
    return main_api_settings.TEMP_IMAGES_DIR


@pytest.fixture
def make_user(db):
    counter = iter(range(1, 10_000))

    def make(user_type: str = "artist", username: str | None = None):
        return user_create(username=username or f"{user_type}{next(counter)}", user_type=user_type)

    return make


@pytest.fixture
def artist(make_user):
    return make_user("artist")


@pytest.fixture
def user_client(artist) -> APIClient:
    return support.client_for(artist)


@pytest.fixture
def media_client() -> APIClient:
    return support.media_client()


@pytest.fixture
def s3_temp_storage(main_api_settings, s3_endpoint):
    """``TEMP_STORAGE=s3`` on a fresh bucket of the test S3 server (under a key prefix), through
    the settings' own parsing (``main_api.settings.temp_storage_config``); yields the bucket."""
    from main_api.settings import temp_storage_config
    from tests.helpers.s3 import new_bucket

    bucket = new_bucket(s3_endpoint, prefix="tmp-originals/")
    main_api_settings.STORAGES = {**main_api_settings.STORAGES,
                                  "temp_images": temp_storage_config(bucket.temp_env)}
    return bucket


@pytest.fixture(params=["local", "s3"])
def temp_storage(request, temp_dir):
    """Each temp storage in turn: ``local`` (None) or ``s3`` (the bucket)."""
    return request.getfixturevalue("s3_temp_storage") if request.param == "s3" else None
