"""Local HTTP servers that speak the vision providers' protocols, for tests (127.0.0.1 only).

``FakeVision`` answers ``POST .../images:annotate`` like Google Cloud Vision and
``POST .../chat/completions`` like an OpenAI-compatible API. ``mode`` picks the behaviour:
``ok``, ``error`` (an HTTP error with the provider's error JSON), ``malformed`` (200 with a
body that is not the protocol's JSON) or ``slow`` (answers after ``delay`` seconds). Every
request is recorded (path, query, headers, JSON body).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

GOOGLE_ANSWER: dict[str, Any] = {
    "labelAnnotations": [
        {"mid": "/m/01", "description": "Pattern", "score": 0.91, "topicality": 0.91},
        {"mid": "/m/02", "description": "Art", "score": 0.78, "topicality": 0.78},
    ],
    "localizedObjectAnnotations": [
        {"mid": "/m/03", "name": "Ball", "score": 0.66,
         "boundingPoly": {"normalizedVertices": [{"x": 0.1, "y": 0.2}, {"x": 0.4, "y": 0.2},
                                                 {"x": 0.4, "y": 0.6}, {"x": 0.1, "y": 0.6}]}},
    ],
    "textAnnotations": [{"locale": "en", "description": "SALE 50%\n"}],
    "imagePropertiesAnnotation": {"dominantColors": {"colors": [
        {"color": {"red": 200, "green": 30, "blue": 40}, "score": 0.6, "pixelFraction": 0.4},
    ]}},
}

OPENAI_MESSAGE: dict[str, Any] = {
    "style": {"label": "abstract", "confidence": 0.7},
    "medium": {"label": "digital painting", "confidence": 0.6},
    "subject": {"label": "shapes", "confidence": 0.5},
    "mood": ["Playful", "calm"],
}


class FakeVision:
    def __init__(self) -> None:
        self.mode = "ok"
        self.delay = 2.0
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's spelling
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                fake.requests.append({"path": parts.path, "query": parse_qs(parts.query),
                                      "headers": dict(self.headers), "json": body})
                if fake.mode == "slow":
                    time.sleep(fake.delay)
                google = parts.path.endswith("images:annotate")
                if fake.mode == "error":
                    if google:
                        self.reply(403, {"error": {"code": 403, "message": "API key not valid",
                                                   "status": "PERMISSION_DENIED"}})
                    else:
                        self.reply(429, {"error": {"message": "Rate limit reached", "type": "rate_limit"}})
                    return
                if fake.mode == "malformed":
                    data = b"<html>upstream proxy error</html>" if google else json.dumps(
                        {"choices": [{"message": {"role": "assistant", "content": "I think it is a ball."}}]}
                    ).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html" if google else "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if google:
                    self.reply(200, {"responses": [GOOGLE_ANSWER]})
                else:
                    self.reply(200, {
                        "id": "chatcmpl-test", "object": "chat.completion", "model": body.get("model") if body else "",
                        "choices": [{"index": 0, "finish_reason": "stop", "message": {
                            "role": "assistant", "content": json.dumps(OPENAI_MESSAGE)}}],
                        "usage": {"prompt_tokens": 900, "completion_tokens": 60, "total_tokens": 960},
                    })

            def reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def google_endpoint(self) -> str:
        return f"{self.url}/v1/images:annotate"

    @property
    def openai_base(self) -> str:
        return f"{self.url}/v1"

    def __enter__(self) -> FakeVision:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
