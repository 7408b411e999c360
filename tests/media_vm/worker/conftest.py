"""The worker, the healer and the steps driven in this process against a live main API.

``vm`` gives a main API served by pytest-django's ``live_server`` (real HTTP on loopback,
the run's database), a media DB of the run's kind (SQLite, or MariaDB when
``MEDIA_TEST_DATABASE_URL`` names it: each CI run covers one, so these tests run once per
run), local storage under tmp_path, and a factory for :class:`~media_vm.worker.Worker`
built from those collaborators. Only what a real process alone shows (SIGKILL, SIGSTOP,
image processes) stays in ``tests/faults``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.cache import cache

from tests.helpers import images
from tests.helpers.databases import fresh_mysql_database

MEDIA_KEY = "in-process-media-key-0123456789abcdef"
_photo_seeds = itertools.count(1)


@dataclass
class InProcessVM:
    """The collaborators of a worker, and the main API as its users see it."""

    api_url: str
    media_db_url: str
    tmp: Path
    temp_dir: Path
    settings: Any  # media_vm.config.Settings
    repo: Any  # media_vm.db.Repository
    storage: Any  # the storage backend
    workers: list[Any] = field(default_factory=list)

    def client(self, api_url: str | None = None) -> Any:
        from media_vm.api_client import MainAPIClient

        return MainAPIClient(api_url or self.api_url, MEDIA_KEY, timeout=10)

    def worker(self, *, api_url: str | None = None, **options: Any) -> Any:
        """A Worker on these collaborators; ``api_url`` (e.g. a fault proxy), ``settings``
        overrides as keywords (``max_attempts=2``), the rest passed to Worker."""
        from media_vm.worker import Worker

        fields = {k: options.pop(k) for k in list(options) if hasattr(self.settings, k)}
        settings = replace(self.settings, **fields)
        worker = Worker(settings, repo=self.repo, storage=self.storage, client=self.client(api_url), **options)
        self.workers.append(worker)
        return worker

    def user(self, name: str = "painter", user_type: str = "community") -> str:
        """A new user of the main API; returns its token."""
        from main_api.users.services import user_create, user_token_get

        return str(user_token_get(user=user_create(username=name, user_type=user_type)))

    def upload(self, token: str, field_name: str = "product_image", *, path: Path | None = None,
               name: str = "photo.jpg", seed: int | None = None, source_tool: str | None = None) -> Path:
        """PATCH /users/me with one photo (made here unless ``path``), saying which tool made it
        when ``source_tool`` is given; returns the file sent.
        Each call draws a different photo unless ``seed`` is given: the main API treats the
        same bytes uploaded again by a user as a duplicate and makes no second job."""
        path = path or images.photo_jpeg(self.tmp / name, 640, 480, quality=85,
                                         seed=next(_photo_seeds) if seed is None else seed)
        r = requests.patch(f"{self.api_url}/users/me", headers={"Authorization": f"Token {token}"},
                           files={field_name: (path.name, path.read_bytes(), "application/octet-stream")},
                           data={"source_tool": source_tool} if source_tool else None, timeout=30)
        assert r.status_code == 200, r.text
        return path

    def api_images(self, token: str) -> list[dict[str, Any]]:
        """The owner's ``pending_images`` as ``GET /users/me`` shows them."""
        r = requests.get(f"{self.api_url}/users/me", headers={"Authorization": f"Token {token}"}, timeout=30)
        r.raise_for_status()
        return list(r.json()["pending_images"])

    def upload_object(self, token: str, upload_id: int) -> dict[str, Any]:
        """``GET /api/uploads/{upload_id}`` as its owner sees it (asserts a 200)."""
        r = requests.get(f"{self.api_url}/api/uploads/{upload_id}", headers={"Authorization": f"Token {token}"},
                         timeout=30)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def rows(self) -> list[Any]:
        """Every media_files row, oldest first."""
        from sqlalchemy import select

        from media_vm.db import media_files

        with self.repo.engine.connect() as conn:
            return list(conn.execute(select(media_files).order_by(media_files.c.id)).mappings())

    def checklist(self, row: Any) -> dict[str, Any]:
        """``{step name: checklist row}`` of one image."""
        return {step.value: r for step, r in self.repo.checklist(row["id"]).items()}

    def library_files(self, media_id: str) -> list[Path]:
        return sorted((self.settings.storage_root / "library").rglob(f"{media_id}_*"))


@pytest.fixture
def media_test_db_url(tmp_path):
    """A fresh media DB of this run's kind."""
    base = os.environ.get("MEDIA_TEST_DATABASE_URL", "")
    if base.startswith("mysql"):
        with fresh_mysql_database(base) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'media_vm.sqlite3'}"


@pytest.fixture
def vm(live_server, transactional_db, settings, tmp_path, media_test_db_url):
    from media_vm.config import Settings
    from media_vm.db import Repository, make_engine, migrate
    from media_vm.storage import make_storage

    settings.TEMP_IMAGES_DIR = tmp_path / "temp_images"
    settings.MEDIA_API_KEYS = [MEDIA_KEY]
    settings.SMART_MEDIA_BASE_URL = f"{live_server.url}/api/images"
    cache.clear()  # upload throttle counters
    vm_settings = Settings(
        main_api_url=live_server.url, main_api_key=MEDIA_KEY, database_url=media_test_db_url,
        storage_root=tmp_path / "media", public_url="http://vm.example.test", worker_id="in-process",
        poll_idle_seconds=0.05, long_poll_seconds=0, retry_base_seconds=0.05, lease_seconds=30,
        heal_interval_seconds=3600, max_attempts=3,
    )
    engine = make_engine(media_test_db_url)
    migrate(engine)
    harness = InProcessVM(api_url=live_server.url, media_db_url=media_test_db_url, tmp=tmp_path,
                          temp_dir=settings.TEMP_IMAGES_DIR, settings=vm_settings,
                          repo=Repository(engine, lease_seconds=vm_settings.lease_seconds),
                          storage=make_storage(vm_settings))
    yield harness
    for worker in harness.workers:
        worker.stop.set()
    with contextlib.suppress(Exception):
        engine.dispose()


@pytest.fixture
def media_server(vm, settings):
    """The VM's HTTP app on loopback over the harness's media DB and storage; the main API's
    ``/api/images`` proxies to it (``MEDIA_BACKEND_URL``). Yields its base URL."""
    from media_vm.http import MediaApp
    from tests.helpers.wsgi import serving

    with serving(MediaApp(vm.settings)) as url:
        settings.MEDIA_BACKEND_URL = url
        yield url
