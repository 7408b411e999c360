"""The main API's own calls to the media VM carry the media key: similar images and the admin
dashboard's status, against the VM's real server (in-process, real HTTP on loopback), which
answers ``/similar`` and ``/metrics`` to a key only."""

from __future__ import annotations

from dataclasses import replace

import pytest

from main_api.media import vm_client
from main_api.media.services.lifecycle import upload_complete
from media_vm.config import Settings
from media_vm.http import MediaApp
from tests.helpers.wsgi import serving
from tests.main_api.support import MEDIA_KEY, OLD_MEDIA_KEY, make_pending, media_client
from tests.media_vm.test_similarity import NEAR, add


@pytest.fixture
def vm(settings, tmp_path):
    """The VM's server mid-rotation (``MAIN_API_KEY=new,old``) with two users' near-identical images."""
    app = MediaApp(replace(Settings(), database_url=f"sqlite:///{tmp_path / 'media.sqlite3'}",
                           storage_root=tmp_path / "media", main_api_keys=(MEDIA_KEY, OLD_MEDIA_KEY)))
    mine, _ = add(app.repo, 1, user_id=7)
    theirs, _ = add(app.repo, 2, user_id=8, sha="e" * 64, embedding=NEAR)
    try:
        with serving(app) as base:
            settings.MEDIA_BACKEND_URL = base
            settings.MEDIA_VM_STATUS_TIMEOUT = 5
            yield mine["media_id"], theirs["media_id"]
    finally:
        app.engine.dispose()


def processed(user, media_id):
    image = make_pending(user)
    upload_complete(image_id=image.pk, media_id=media_id, permanent_url="", formats_available=[],
                                    sizes_available=[], ai_analysis={})
    return image


@pytest.mark.django_db
@pytest.mark.parametrize("main_api_keys", [[MEDIA_KEY], [OLD_MEDIA_KEY, MEDIA_KEY]], ids=["current", "rotating"])
def test_similar_images_reach_the_vm_with_the_key(artist, settings, vm, main_api_keys):
    mine, theirs = vm
    settings.MEDIA_API_KEYS = main_api_keys  # the main API sends the first; the VM takes either
    processed(artist, mine)
    response = media_client(main_api_keys[-1]).get(f"/api/media/similar/{mine}?scope=all")
    assert response.status_code == 200, response.content
    assert [r["media_id"] for r in response.json()["results"]] == [theirs]


@pytest.mark.django_db
def test_a_key_the_vm_does_not_know_is_a_502_not_a_leak(artist, settings, vm):
    mine, _ = vm
    settings.MEDIA_API_KEYS = ["a-key-the-vm-never-had", MEDIA_KEY]
    processed(artist, mine)
    response = media_client(MEDIA_KEY).get(f"/api/media/similar/{mine}?scope=all")
    assert response.status_code == 502 and response.json()["extra"]["upstream_status"] == 401


@pytest.mark.django_db
def test_the_dashboard_reads_health_detail_and_metrics_with_the_key(vm):
    status = vm_client.media_vm_status_get()
    assert status.reachable and status.healthy, status.error
    assert status.health == {"status": "ok", "database": "ok", "storage": "ok"}
    assert status.jobs["done"] == 2


@pytest.mark.django_db
def test_the_dashboard_says_so_when_the_key_is_wrong(settings, vm):
    settings.MEDIA_API_KEYS = ["a-key-the-vm-never-had"]
    status = vm_client.media_vm_status_get()
    assert not status.reachable and "401" in status.error
