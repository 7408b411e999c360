"""A small Server-Sent Events client for tests: a thread reads a stream over a real socket and
keeps every message (id, event, data, and the comments) as it arrives, with its arrival time."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests


@dataclass
class Message:
    """One SSE message: ``event`` and ``data`` (parsed JSON when it is JSON), ``id``, and the
    ``time.monotonic()`` it was read at; a comment has ``event == "comment"``."""

    event: str
    data: Any
    id: int | None
    at: float


@dataclass
class EventStream:
    """``GET url`` as an event stream, read in a thread from :meth:`open` until :meth:`close`."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    status: int | None = None
    content_type: str = ""

    def open(self, *, timeout: float = 10) -> EventStream:
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._response: requests.Response | None = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"{self.url}: no answer in {timeout} s")
        return self

    def _read(self) -> None:
        try:
            response = requests.get(self.url, headers={"Accept": "text/event-stream", **self.headers},
                                    stream=True, timeout=(5, 60))
        except requests.RequestException:
            self._ready.set()
            raise
        self._response = response
        self.status, self.content_type = response.status_code, response.headers.get("Content-Type", "")
        self._ready.set()
        if response.status_code != 200:
            return
        event, data, ident = "message", [], None
        try:
            for raw in response.iter_lines(decode_unicode=True):
                if self._stop.is_set():
                    return
                line = raw if isinstance(raw, str) else raw.decode()
                if line == "":
                    if data:
                        text = "\n".join(data)
                        try:
                            parsed: Any = json.loads(text)
                        except ValueError:
                            parsed = text
                        self.messages.append(Message(event, parsed, ident, time.monotonic()))
                    event, data, ident = "message", [], None
                elif line.startswith(":"):
                    self.messages.append(Message("comment", line[1:].strip(), None, time.monotonic()))
                else:
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "event":
                        event = value
                    elif name == "data":
                        data.append(value)
                    elif name == "id":
                        ident = int(value)
        except (requests.RequestException, AttributeError):
            return  # closed under the reader

    def events(self, name: str = "upload") -> list[Message]:
        """The messages of event type ``name`` read so far."""
        return [m for m in list(self.messages) if m.event == name]

    def wait_for(self, predicate, *, timeout: float = 60) -> Message:
        """The first message for which ``predicate(message)`` holds, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in list(self.messages):
                if predicate(message):
                    return message
            time.sleep(0.01)
        raise TimeoutError(f"{self.url}: no such message in {timeout} s; got {self.messages!r}")

    def close(self) -> None:
        self._stop.set()
        if self._response is not None:
            self._response.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> EventStream:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()
