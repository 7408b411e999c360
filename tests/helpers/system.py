"""The whole system as real processes on loopback, for end-to-end and fault tests.

``System`` starts the main API (gunicorn) and the media VM server on free ports with
their own databases and folders under a temp dir, and runs media VM workers as separate
processes. When the run's ``DATABASE_URL`` / ``MEDIA_TEST_DATABASE_URL`` name MySQL,
both services get fresh MariaDB databases instead of SQLite.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select

from tests.helpers.databases import fresh_mysql_database
from tests.helpers.processes import ROOT, free_port, stop, wait_until


class System:
    def __init__(self, tmp: Path, *, main_db_url: str, media_db_url: str, extra_env: dict[str, str] | None = None):
        self.tmp = tmp
        self.api_port = free_port()
        self.vm_port = free_port()
        self.key = secrets.token_urlsafe(24)
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.vm_url = f"http://127.0.0.1:{self.vm_port}"
        self.media_db_url = (extra_env or {}).get("MEDIA_DATABASE_URL", media_db_url)
        self.storage_root = tmp / "media"
        self.temp_dir = tmp / "temp_images"
        self.logs = tmp / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DJANGO_DEBUG": "0",
            # production mode over plain HTTP on loopback: said explicitly, as compose does
            "DJANGO_INSECURE_HTTP": "1",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": main_db_url,
            "MEDIA_API_KEY": self.key,
            "TEMP_IMAGES_DIR": str(self.temp_dir),
            "SMART_MEDIA_BASE_URL": f"{self.api_url}/api/images",
            "MEDIA_BACKEND_URL": self.vm_url,
            "STATIC_ROOT": str(tmp / "static"),
            "GUNICORN_WORKERS": "2",
            "GUNICORN_ACCESSLOG": "",
            "MAIN_API_URL": self.api_url,
            "MAIN_API_KEY": self.key,
            "MEDIA_DATABASE_URL": media_db_url,
            "MEDIA_STORAGE_ROOT": str(self.storage_root),
            "MEDIA_VM_PUBLIC_URL": self.vm_url,
            "POLL_IDLE_SECONDS": "0.5",
            "RETRY_BASE_SECONDS": "0.2",
            "LEASE_SECONDS": "30",
            "HEAL_INTERVAL_SECONDS": "1",
            **(extra_env or {}),
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._engine = None

    # -- processes -------------------------------------------------------------------

    def manage(self, *args: str, env: dict[str, str] | None = None) -> str:
        out = subprocess.run([sys.executable, "-m", "main_api", *args], cwd=ROOT, env={**self.env, **(env or {})},
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"main_api {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the process' life
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env={**self.env, **(env or {})},
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> System:
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")  # as a deployment does: the admin needs it
        self.start_api()
        proc = self.spawn("media-vm", ["-m", "media_vm", "serve", "--port", str(self.vm_port)])
        wait_until(lambda: self._alive(proc) and self._ok(f"{self.vm_url}/health"), timeout=60,
                   what="the media VM server")
        return self

    def start_api(self) -> None:
        proc = self.spawn("main-api", ["-m", "main_api", "serve", "--port", str(self.api_port)])
        wait_until(lambda: self._alive(proc) and self._ok(f"{self.api_url}/api/media/pending/all", auth=True),
                   timeout=60, what="the main API")

    def stop_process(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        # a leader killed earlier (kill_inside) may have left children (its image process) in its
        # group: stop() kills what is left there too
        stop(proc, timeout=30, sig=sig, group=True)

    def stop(self) -> None:
        for name in list(self.procs):
            self.stop_process(name)
        if self._engine is not None:
            self._engine.dispose()

    @staticmethod
    def _alive(proc: subprocess.Popen[bytes]) -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode} while starting")
        return True

    def _ok(self, url: str, *, auth: bool = False) -> bool:
        try:
            headers = {"Authorization": f"Bearer {self.key}"} if auth else {}
            return requests.get(url, headers=headers, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def worker(self, *args: str, env: dict[str, str] | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run a worker to completion (``--once`` unless told otherwise)."""
        return subprocess.run([sys.executable, "-m", "media_vm", "worker", *(args or ("--once",))], cwd=ROOT,
                              env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=timeout)

    def vm_command(self, *args: str, env: dict[str, str] | None = None) -> str:
        """``python -m media_vm ARGS`` with this system's settings; its output (raises on failure)."""
        run = subprocess.run([sys.executable, "-m", "media_vm", *args], cwd=ROOT, env={**self.env, **(env or {})},
                             capture_output=True, text=True, timeout=300)
        if run.returncode != 0:
            raise RuntimeError(f"media_vm {' '.join(args)} failed:\n{run.stdout}\n{run.stderr}")
        return run.stdout

    def kill_inside(self, proc: subprocess.Popen[bytes], step: str, *, timeout: float = 60) -> None:
        """SIGKILL a worker process as soon as the first image's ``step`` is running."""
        wait_until(lambda: self.step_status(step) == "running", timeout=timeout, interval=0.05,
                   what=f"a worker inside {step}")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    # -- the main API as a client sees it ----------------------------------------------

    def create_user(self, name: str, user_type: str = "artist") -> str:
        return self.manage("create_user", name, "--type", user_type).strip().splitlines()[-1]

    def upload(self, token: str, files: dict[str, Path | tuple[str, bytes]]) -> requests.Response:
        parts = {}
        for field, value in files.items():
            if isinstance(value, Path):
                parts[field] = (value.name, value.read_bytes(), "application/octet-stream")
            else:
                parts[field] = (value[0], value[1], "application/octet-stream")
        return requests.patch(f"{self.api_url}/users/me", files=parts, headers={"Authorization": f"Token {token}"},
                              timeout=30)

    def me(self, token: str) -> dict[str, Any]:
        r = requests.get(f"{self.api_url}/users/me", headers={"Authorization": f"Token {token}"}, timeout=30)
        r.raise_for_status()
        return dict(r.json())

    def pending(self) -> list[dict[str, Any]]:
        r = requests.get(f"{self.api_url}/api/media/pending/all", headers={"Authorization": f"Bearer {self.key}"},
                         timeout=30)
        r.raise_for_status()
        return list(r.json()["images"])

    # -- the media DB, read directly -----------------------------------------------------

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        if self._engine is None:
            from media_vm.db import make_engine

            self._engine = make_engine(self.media_db_url)
        return self._engine

    def media_rows(self) -> list[dict[str, Any]]:
        from media_vm.db import media_files

        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(media_files).order_by(media_files.c.id)).mappings()]

    def heartbeat(self, worker_id: str) -> dict[str, Any] | None:
        """The ``worker_heartbeats`` row of ``worker_id`` (None before its first beat)."""
        from media_vm.db import worker_heartbeats

        with self.engine.connect() as conn:
            row = conn.execute(select(worker_heartbeats).where(worker_heartbeats.c.worker_id == worker_id)).mappings()
            first = row.first()
            return dict(first) if first else None

    def step_status(self, step: str) -> str | None:
        """Status of ``step`` of the first image in the media DB (None before there is one)."""
        rows = self.media_rows()
        return str(self.checklist(rows[0]["id"])[step]["status"]) if rows else None

    def checklist(self, media_file_id: int) -> dict[str, dict[str, Any]]:
        from media_vm.db import processing_checklist

        with self.engine.connect() as conn:
            rows = conn.execute(select(processing_checklist).where(
                processing_checklist.c.media_file_id == media_file_id)).mappings()
            return {r["step"]: dict(r) for r in rows}


@contextlib.contextmanager
def running_system(tmp: Path, **kwargs: Any) -> Iterator[System]:
    """A started System on the databases this test run targets; stopped and dropped after."""
    with contextlib.ExitStack() as stack:
        main_url = os.environ.get("DATABASE_URL", "")
        if main_url.startswith("mysql"):
            main_url = stack.enter_context(fresh_mysql_database(main_url))
        else:
            main_url = f"sqlite:///{tmp / 'main_api.sqlite3'}"
        media_url = os.environ.get("MEDIA_TEST_DATABASE_URL", "")
        if media_url.startswith("mysql"):
            media_url = stack.enter_context(fresh_mysql_database(media_url))
        else:
            media_url = f"sqlite:///{tmp / 'media_vm.sqlite3'}"
        system = System(tmp, main_db_url=main_url, media_db_url=media_url, **kwargs)
        try:
            yield system.start()
        except BaseException:
            for name in ("main-api", "media-vm"):
                sys.stderr.write(f"---- {name} log ----\n{system.log(name)[-4000:]}\n")
            raise
        finally:
            system.stop()
