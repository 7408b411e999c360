"""An HTTP server on 127.0.0.1 that serves images, for the tests of importing from a URL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[[BaseHTTPRequestHandler], None]


class ImageHost:
    """A threaded HTTP server on 127.0.0.1 with ``routes`` (path -> function writing the answer);
    every request is recorded as ``(path, headers)`` in ``hits``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[tuple[str, dict[str, str]]] = []
        self.stop = threading.Event()
        host = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                host.hits.append((self.path, dict(self.headers)))
                route = host.routes.get(self.path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should have

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, client_address: None  # a client that hung up, on purpose
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def body(self, path: str, data: bytes, content_type: str = "image/png", status: int = 200) -> str:
        def route(handler):
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.send_header("Set-Cookie", "session=secret; Path=/")
            handler.end_headers()
            handler.wfile.write(data)

        self.routes[path] = route
        return self.base + path

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        def route(handler):
            handler.send_response(status)
            handler.send_header("Location", location)
            handler.send_header("Set-Cookie", "tracking=1; Path=/")
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        self.routes[path] = route
        return self.base + path

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
