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
