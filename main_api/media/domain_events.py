"""What happens in an upload's life, in one table: the upload's domain events, each with its
payload type, and the named functions other apps connect to them.

The media app never imports the apps above it (``users``, ``artworks``); where they must act
on an upload's change (give a profile field back when its upload fails, move an artwork to the
run a re-processing made), they connect a named function here in their ``AppConfig.ready()``.
The media app sends the event inside the transaction of the change, so a handler that raises
rolls the change back and its error propagates (a cleanup then answers 500 and the media VM
repeats it). Handlers run in the order they were connected, which is the order of
``INSTALLED_APPS``; each must be idempotent (a repeated failure sends the event again).

``python -m main_api upload_events`` prints the table (event, payload type, handlers in the
order they run); ``docs/upload-events.md`` is that output, committed and compared by a test,
so a new handler shows in review. This is the shape of Immich's one typed ``EventMap``
(``server/src/repositories/event.repository.ts``), which services subscribe to.

The events that a browser is sent (the owner's live stream) are another thing:
``main_api.media.live``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from main_api.media.models import Upload


@dataclass(frozen=True)
class UploadFailed:
    """``upload.failed``: the upload (already ``failed``, locked, with its ``target`` and
    ``previous_reference`` as stored), or one of its duplicates, before its temp original is
    deleted. Sent by ``services.lifecycle.upload_fail`` for the row and each duplicate."""

    upload: Upload


@dataclass(frozen=True)
class UploadRetried:
    """``upload.retried``: a failed upload (or a duplicate of it) put back to ``pending`` for a
    new round, locked. Sent by ``services.lifecycle.upload_retry``."""

    upload: Upload


@dataclass(frozen=True)
class UploadCompleted:
    """``upload.completed``: the media VM's completion of the upload was accepted and the row is
    now ``complete`` (locked): every reference to it is to hold its smart URL, and a
    re-processing (``upload.reprocess_of``) takes over what referred to the run it re-did. Sent
    by ``services.lifecycle.upload_mark_complete``, from the completion itself and from the
    sweep of rows an older version or a crash left ``processed``."""

    upload: Upload


@dataclass(frozen=True)
class UploadDeleted:
    """``upload.deleted``: the upload about to be deleted (locked, as stored); everything that
    points at it (its temp path or its smart URL) is to be cleared. Sent by
    ``services.deletion.upload_delete``."""

    upload: Upload


P = TypeVar("P")
Handler = Callable[[P], Any]


class DomainEvent(Generic[P]):
    """One event: its ``name`` (``upload.failed``), its payload type and its handlers.

    :meth:`connect` adds a named function (a module-level ``def``: the table names it); a
    lambda or a nested function is a ``ValueError``, and connecting one twice connects it once.
    :meth:`send` calls the handlers with the payload, in order, in the caller's transaction,
    and returns what each returned (a handler may report a count: the references it rewrote);
    a payload of another type is a ``TypeError``.
    """

    def __init__(self, name: str, payload_type: type[P], sent_by: str) -> None:
        self.name = name
        self.payload_type = payload_type
        #: The function that sends it (``module.function`` under ``main_api.media``), for the table.
        self.sent_by = sent_by
        self._handlers: list[Handler[P]] = []

    @property
    def handlers(self) -> tuple[Handler[P], ...]:
        """The handlers in the order they run."""
        return tuple(self._handlers)

    def connect(self, handler: Handler[P]) -> None:
        """Run ``handler(payload)`` whenever the event is sent (see the class)."""
        if "<" in handler.__qualname__:
            raise ValueError(f"{self.name}: connect a module-level function, not {handler.__qualname__}")
        if handler not in self._handlers:
            self._handlers.append(handler)

    def disconnect(self, handler: Handler[P]) -> None:
        """Stop running ``handler`` (tests that connect one of their own); unknown: nothing."""
        if handler in self._handlers:
            self._handlers.remove(handler)

    def send(self, payload: P) -> list[Any]:
        """Call every handler with ``payload``; their return values, in order."""
        if not isinstance(payload, self.payload_type):
            raise TypeError(f"{self.name} carries {self.payload_type.__name__}, not {type(payload).__name__}")
        return [handler(payload) for handler in self._handlers]


UPLOAD_FAILED = DomainEvent("upload.failed", UploadFailed, "services.lifecycle.upload_fail")
UPLOAD_RETRIED = DomainEvent("upload.retried", UploadRetried, "services.lifecycle.upload_retry")
UPLOAD_COMPLETED = DomainEvent("upload.completed", UploadCompleted, "services.lifecycle.upload_mark_complete")
UPLOAD_DELETED = DomainEvent("upload.deleted", UploadDeleted, "services.deletion.upload_delete")

#: Every upload event, in the order of an upload's life.
EVENTS: tuple[DomainEvent[Any], ...] = (UPLOAD_FAILED, UPLOAD_RETRIED, UPLOAD_COMPLETED, UPLOAD_DELETED)


def events_table() -> str:
    """The events as a Markdown table: event, payload type, the function that sends it, the
    handlers (``module.function``) in the order they run; what ``docs/upload-events.md`` holds."""
    lines = [
        "# Upload events",
        "",
        "What happens when an upload fails, is retried, completes or is deleted: each event of",
        "`main_api/media/domain_events.py`, its payload, and the functions the apps connect to it, in",
        "the order they run (inside the transaction of the change). Written by",
        "`python -m main_api upload_events`; a test fails when this file differs from its output.",
        "",
        "| event | payload | sent by (`main_api.media.`) | handlers, in order |",
        "|---|---|---|---|",
    ]
    for event in EVENTS:
        handlers = "<br>".join(f"`{h.__module__}.{h.__qualname__}`" for h in event.handlers) or "(none)"
        lines.append(f"| `{event.name}` | `{event.payload_type.__name__}` | `{event.sent_by}` | {handlers} |")
    return "\n".join(lines) + "\n"
