"""A forwarding HTTP proxy on loopback that can break chosen requests on purpose.

The worker talks to the main API (or the S3 store) through it; a test switches a path into a fault mode:
``"refuse"`` drops the connection without an answer (the API is down) and ``"500"``
answers with a server error. Everything else is forwarded unchanged.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}


class FaultProxy:
    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.faults: dict[tuple[str, str], str] = {}
        self.hits: dict[tuple[str, str], int] = {}
        self.log: list[tuple[float, str, str, float]] = []  # (started, method, path, seconds taken)
        self.seen: list[tuple[str, str, dict[str, str]]] = []  # (method, path, headers) of every request
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.seen.append((self.command, self.path, dict(self.headers.items())))
                mode = proxy.fault_for(self.command, self.path)
                if mode == "refuse":
                    self.close_connection = True
                    self.connection.close()
                    return
                if mode == "500":
                    data = b'{"message": "injected failure"}'
                    self.send_response(500)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
                started = time.monotonic()
                upstream = requests.request(self.command, proxy.target + self.path, headers=headers, data=body,
                                            timeout=60)
                proxy.log.append((started, self.command, self.path, time.monotonic() - started))
                self.send_response(upstream.status_code)
                for k, v in upstream.headers.items():
                    if k.lower() not in HOP_BY_HOP | {"content-encoding"}:
                        self.send_header(k, v)
                head = self.command == "HEAD"  # no body, but the length the GET would have
                self.send_header("Content-Length", upstream.headers.get("Content-Length", "0") if head
                                 else str(len(upstream.content)))
                self.end_headers()
                if not head:
                    self.wfile.write(upstream.content)

            do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def fault_for(self, method: str, path: str) -> str | None:
        for (m, prefix), mode in list(self.faults.items()):
            if m == method and path.startswith(prefix):
                self.hits[(m, prefix)] = self.hits.get((m, prefix), 0) + 1
                return mode
        return None

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
