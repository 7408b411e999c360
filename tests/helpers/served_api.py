"""The main API as ``python -m main_api serve`` runs it, alone, and the clients that abuse it.

``served_main_api`` starts the real command (gunicorn, uvicorn workers) on a free port in
production mode on a temp SQLite database, with one user; ``SlowClients`` holds open
connections that trickle a request body or never finish their headers. The serving tests
and ``make bench`` (slow-client section) both use them. ``read_answer`` and
``push_until_answered`` speak raw HTTP for the tests that send what no client library would.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.helpers.processes import ROOT, free_port, stop, wait_until


@dataclass
class ServedAPI:
    url: str
    port: int
    token: str
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


@contextlib.contextmanager
def served_main_api(tmp: Path, extra_env: dict[str, str] | None = None) -> Iterator[ServedAPI]:
    """``python -m main_api serve`` on a free loopback port, production mode (DEBUG off, static
    files not collected beforehand), SQLite under ``tmp``; yields once ``/health`` answers 200."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_DEBUG": "0",
        "DJANGO_ENV": "production",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"sqlite:///{tmp / 'main_api.sqlite3'}",
        "MEDIA_API_KEY": secrets.token_urlsafe(24),
        "TEMP_IMAGES_DIR": str(tmp / "temp_images"),
        "STATIC_ROOT": str(tmp / "static"),
        "GUNICORN_WORKERS": "2",
        "GUNICORN_ACCESSLOG": "",
        **(extra_env or {}),
    }

    def manage(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "main_api", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"main_api {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    manage("migrate", "--noinput")
    token = manage("create_user", "slowpoke", "--type", "artist").strip().splitlines()[-1]
    log = tmp / "main-api.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "main_api", "serve", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            return requests.get(f"{url}/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_until(up, timeout=90, what="python -m main_api serve")
        yield ServedAPI(url=url, port=port, token=token, env=env, proc=proc, log=log)
    finally:
        stop(proc, timeout=30)


def _still_open(sock: socket.socket) -> bool:
    """True while the server has neither closed nor answered ``sock``."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return True
    try:
        sock.recv(1, socket.MSG_PEEK)  # b"": closed; bytes: answered; either way no longer waiting
    except (BlockingIOError, InterruptedError):
        return True
    except OSError:
        pass
    return False


@dataclass
class SlowClients:
    """``bodies`` connections sending ``PATCH /users/me`` with a declared body one byte at a
    time and ``heads`` connections stuck mid-headers (one more header byte at a time), each
    sending every ``interval`` seconds from a background thread until :meth:`close`."""

    api: ServedAPI
    bodies: int
    heads: int
    interval: float = 0.3
    sockets: list[socket.socket] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def open(self) -> SlowClients:
        body_head = (f"PATCH /users/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {self.api.token}\r\n"
                     "Content-Type: multipart/form-data; boundary=slow\r\nContent-Length: 100000\r\n\r\n"
                     "--slow").encode()
        stuck_head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
        for i in range(self.bodies + self.heads):
            sock = socket.create_connection(("127.0.0.1", self.api.port), timeout=10)
            sock.sendall(body_head if i < self.bodies else stuck_head)
            sock.setblocking(False)
            self.sockets.append(sock)
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()
        return self

    def _trickle(self) -> None:
        while not self._stop.wait(self.interval):
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.send(b"a")

    def open_count(self) -> int:
        """How many of the connections the server has neither closed nor answered."""
        return sum(_still_open(sock) for sock in self.sockets)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()


def latencies_ms(api: ServedAPI, path: str, n: int, *, auth: bool = False) -> list[float]:
    """``n`` sequential GETs of ``path`` on one keep-alive session; each one's time in ms.
    A request that fails or takes over 10 s raises."""
    session = requests.Session()
    headers = api.auth() if auth else {}
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = session.get(f"{api.url}{path}", headers=headers, timeout=10)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    session.close()
    return times


def p99(values: list[float]) -> float:
    """The 99th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 99 // 100) - 1)]


def read_answer(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes (or ``timeout`` seconds pass)."""
    sock.settimeout(timeout)
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except (TimeoutError, ConnectionError):
        pass
    return answer


def push_until_answered(sock: socket.socket, chunk: bytes, *, total: int, seconds: float = 60) -> tuple[int, bytes]:
    """Send ``chunk`` after ``chunk`` until the server answers or closes; (bytes sent, answer).

    Once the answer's head has come, sending stops and the rest of the answer is read until the
    server closes (the head and the body can come in separate packets)."""
    sent, answer = 0, b""
    sock.setblocking(False)
    deadline = time.monotonic() + seconds
    while sent < total and time.monotonic() < deadline:
        readable, writable, _ = select.select([sock], [sock], [], 1)
        if readable:
            try:
                data = sock.recv(65536)
            except ConnectionError:
                break
            answer += data
            if not data:
                break
            if b"\r\n\r\n" in answer:
                sock.setblocking(True)
                return sent, answer + read_answer(sock, timeout=max(1.0, deadline - time.monotonic()))
        if writable:
            try:
                sent += sock.send(chunk)
            except (BlockingIOError, InterruptedError):
                pass
            except ConnectionError:
                break
    return sent, answer
