"""Main API servers as real processes on one database, without the media VM.

``api_servers(tmp, count, **env)`` migrates a fresh database of this run's kind (SQLite file,
or a throw-away MariaDB database when ``DATABASE_URL`` names MySQL) and starts ``count``
``python -m main_api serve`` processes on it, as several hosts behind a load balancer would be.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import requests

from shared.data_types import UPLOAD_FIELDS
from tests.helpers.databases import fresh_mysql_database
from tests.helpers.images import image_bytes
from tests.helpers.processes import free_port, wait_until
from tests.helpers.system import System


class Servers:
    """``count`` main API servers on one database (no media VM: nothing here needs it)."""

    def __init__(self, system: System, count: int, per_server_env: Callable[[int], dict[str, str]] | None = None):
        self.system = system
        self.per_server_env = per_server_env
        self.urls: list[str] = []
        for i in range(count):
            self.urls.append(self.start(i))

    def start(self, i: int, port: int | None = None) -> str:
        port = port or free_port()
        url = f"http://127.0.0.1:{port}"
        proc = self.system.spawn(f"main-api-{i}", ["-m", "main_api", "serve", "--port", str(port)],
                                 env=self.per_server_env(i) if self.per_server_env else None)
        wait_until(lambda: self.system._alive(proc) and self.system._ok(f"{url}/health"), timeout=60,
                   what=f"main API server {i}")
        return url

    def restart(self, i: int) -> None:
        """Stop server ``i`` (its processes and their memory go) and start it again on its port."""
        self.system.stop_process(f"main-api-{i}")
        self.start(i, int(self.urls[i].rsplit(":", 1)[1]))

    def patch(self, i: int, token: str, *, files: int = 0) -> requests.Response:
        """``PATCH /users/me`` on server ``i`` with ``files`` images (or a bio alone)."""
        fields = list(UPLOAD_FIELDS)[:files]
        parts = {f: (f"{f}.png", image_bytes("PNG", color=(i, n, 9)), "image/png") for n, f in enumerate(fields)}
        return requests.patch(f"{self.urls[i % len(self.urls)]}/users/me", headers={"Authorization": f"Token {token}"},
                              files=parts or None, data=None if parts else {"bio": "x"}, timeout=60)

    def pending(self, token: str) -> int:
        r = requests.get(f"{self.urls[0]}/users/me", headers={"Authorization": f"Token {token}"}, timeout=30)
        r.raise_for_status()
        return len(r.json()["pending_images"])

    def log(self) -> str:
        return "".join(self.system.log(f"main-api-{i}") for i in range(len(self.urls)))


@contextlib.contextmanager
def api_servers(tmp: Path, count: int = 2, *, static: bool = False,
                per_server_env: Callable[[int], dict[str, str]] | None = None, **env: str) -> Iterator[Servers]:
    """Migrated database (this run's kind), ``count`` servers with ``env``; all stopped after.
    ``static``: collect the static files first (production mode's admin pages need them);
    ``per_server_env(i)``: what server ``i`` has of its own (e.g. its ``TEMP_IMAGES_DIR``)."""
    with contextlib.ExitStack() as stack:
        main_url = os.environ.get("DATABASE_URL", "")
        if main_url.startswith("mysql"):
            main_url = stack.enter_context(fresh_mysql_database(main_url))
        else:
            main_url = f"sqlite:///{tmp / 'main_api.sqlite3'}"
        system = System(tmp, main_db_url=main_url, media_db_url=f"sqlite:///{tmp / 'unused.sqlite3'}",
                        extra_env={"GUNICORN_WORKERS": "2", **env})
        try:
            system.manage("migrate", "--noinput")  # makes the cache table too
            if static:
                system.manage("collectstatic", "--noinput")
            yield Servers(system, count, per_server_env)
        except BaseException:
            for name in system.procs:
                print(f"---- {name} ----\n{system.log(name)[-3000:]}")
            raise
        finally:
            system.stop()
