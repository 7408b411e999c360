"""A remote image host that never finishes: HTTP/1.0, one byte at a time, in a process of its own.

``python -m tests.helpers.trickle_host INTERVAL`` listens on a free port of 127.0.0.1, prints the
port on a line, and answers every request forever, one byte every ``INTERVAL`` seconds, as an
HTTP/1.0 server (no ``Content-Length``, the connection is the body's end):

- ``GET /head``: the status line and headers themselves trickle (the client never gets a response);
- ``GET /body``: the headers at once, then the body trickles.

Its own process, so that a test counting its threads and sockets counts only the client's.
:func:`trickle_host` starts one and stops it when the block ends.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from tests.helpers.processes import ROOT, stop

HEAD = b"HTTP/1.0 200 OK\r\nContent-Type: image/png\r\n\r\n"


@dataclass
class TrickleHost:
    """A running trickle host: ``base`` (``http://127.0.0.1:PORT``) and ``port``."""

    base: str
    port: int


@contextlib.contextmanager
def trickle_host(interval: float) -> Iterator[TrickleHost]:
    """Start ``python -m tests.helpers.trickle_host interval``; yields once it listens."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.helpers.trickle_host", str(interval)], cwd=ROOT,
                            stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield TrickleHost(base=f"http://127.0.0.1:{port}", port=port)
    finally:
        stop(proc, timeout=5)


def _serve(conn: socket.socket, interval: float) -> None:
    with conn:
        request = b""
        while b"\r\n\r\n" not in request:
            data = conn.recv(4096)
            if not data:
                return
            request += data
        path = request.split(b" ", 2)[1]
        try:
            if path == b"/body":
                conn.sendall(HEAD)
            stream = HEAD if path == b"/head" else b"\x89PNG\r\n\x1a\n" + b"\0" * 10_000_000
            for i in range(len(stream)):
                conn.sendall(stream[i:i + 1])
                time.sleep(interval)
        except OSError:
            return  # the client hung up


def main() -> None:
    interval = float(sys.argv[1])
    server = socket.create_server(("127.0.0.1", 0), backlog=128)
    print(server.getsockname()[1], flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=_serve, args=(conn, interval), daemon=True).start()


if __name__ == "__main__":
    main()
