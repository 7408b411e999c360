"""``GET /health``: what a load balancer and docker-compose's healthcheck ask."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_health_ok(temp_dir):
    r = Client().get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "temp_images": "ok"}


@pytest.mark.django_db
def test_health_reports_an_unwritable_temp_folder(main_api_settings, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the temp folder should be")
    main_api_settings.TEMP_IMAGES_DIR = blocker / "temp_images"
    r = Client().get("/health")
    assert r.status_code == 503
    assert r.json()["temp_images"].startswith("error")
