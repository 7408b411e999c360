"""Redis for tests: the machine's server at 127.0.0.1:6379 (shared: never stopped, keys under a
prefix of the test's own) and private ``redis-server`` processes a test may stop.

Outside CI a missing Redis skips the test with the reason; under CI (``CI`` set), where Redis
runs, it fails it: nothing may skip there for want of a service.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers.processes import free_port, stop, wait_until

SHARED_HOST, SHARED_PORT = "127.0.0.1", 6379
SHARED_URL = f"redis://{SHARED_HOST}:{SHARED_PORT}/0"


def redis_answers(host: str, port: int) -> bool:
    """True when a Redis server at ``host:port`` answers ``PING``."""
    try:
        with socket.create_connection((host, port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason`` outside CI; fail under CI, which has every service."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, and CI is set: CI runs Redis", pytrace=False)
    pytest.skip(reason)


def require_shared_redis() -> str:
    """The URL of the machine's Redis, or skip/fail (:func:`skip_or_fail`) when it is not there."""
    if not redis_answers(SHARED_HOST, SHARED_PORT):
        skip_or_fail(f"no Redis at {SHARED_HOST}:{SHARED_PORT}")
    return SHARED_URL


def start_redis_server(folder: Path, port: int) -> subprocess.Popen[bytes]:
    """A ``redis-server`` on ``127.0.0.1:port``, no persistence, its files under ``folder``,
    answering ``PING`` when this returns (or skip/fail when none is installed). The caller stops
    it; :func:`private_redis` does. A test that restarts Redis calls it again with the same port."""
    server = shutil.which("redis-server")
    if not server:
        skip_or_fail("redis-server not installed (apt-get install redis-server)")
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: redis_answers("127.0.0.1", port), timeout=20, what="the private redis-server")
    except BaseException:
        stop_redis_server(proc)
        raise
    return proc


def stop_redis_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server :func:`start_redis_server` started (SIGTERM, then SIGKILL after 10 s)."""
    stop(proc, timeout=10)


@contextmanager
def private_redis(folder: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A ``redis-server`` of the caller's own on a free loopback port, no persistence, its
    files under ``folder``: ``(port, process)``. Stopped on exit, whatever happened."""
    port = free_port()
    proc = start_redis_server(folder, port)
    try:
        yield port, proc
    finally:
        stop_redis_server(proc)
