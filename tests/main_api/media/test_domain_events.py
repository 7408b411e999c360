"""The upload's domain events (``main_api.media.domain_events``): one table of what runs when an
upload fails, is retried, completes or is deleted, committed as ``docs/upload-events.md``."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from main_api.media import domain_events
from main_api.media.domain_events import EVENTS, DomainEvent, UploadCompleted, UploadDeleted, events_table

TABLE = Path(__file__).resolve().parents[3] / "docs" / "upload-events.md"


def test_the_committed_table_is_what_the_code_connects():
    """A new handler, a reordered app or a renamed function shows in review as a change of this file
    (rewrite it with ``python -m main_api upload_events > docs/upload-events.md``)."""
    assert TABLE.read_text() == events_table()


def test_the_command_prints_the_table(db):
    out = StringIO()
    call_command("upload_events", stdout=out)
    assert out.getvalue() == events_table()
    assert "| `upload.completed` | `UploadCompleted` | `services.lifecycle.upload_mark_complete` |" in out.getvalue()


def test_every_sender_named_in_the_table_exists():
    import importlib

    for event in EVENTS:
        module, _, function = event.sent_by.rpartition(".")
        assert callable(getattr(importlib.import_module(f"main_api.media.{module}"), function)), event.sent_by


def test_the_users_references_run_before_the_artworks_follow():
    """Installed-app order: the profile references are rewritten before an artwork moves runs."""
    names = [f"{h.__module__}.{h.__qualname__}" for h in domain_events.UPLOAD_COMPLETED.handlers]
    assert names == ["main_api.users.services.completed_upload_references_follow",
                     "main_api.artworks.services.artwork_upload_follow_reprocessing"]


def first_handler(event: UploadCompleted) -> int:
    return 2


def second_handler(event: UploadCompleted) -> None:
    return None


def test_handlers_run_in_order_once_each_and_return_what_they_return():
    event = DomainEvent("test.event", UploadCompleted, "services.lifecycle.upload_mark_complete")
    event.connect(first_handler)
    event.connect(second_handler)
    event.connect(first_handler)  # twice: once
    assert event.handlers == (first_handler, second_handler)
    assert event.send(UploadCompleted(upload=None)) == [2, None]
    event.disconnect(first_handler)
    assert event.handlers == (second_handler,)


def test_a_lambda_or_a_nested_function_cannot_be_connected():
    event = DomainEvent("test.event", UploadCompleted, "x.y")

    def nested(payload: UploadCompleted) -> None:
        return None

    for handler in (lambda payload: None, nested):
        with pytest.raises(ValueError, match="module-level function"):
            event.connect(handler)
    assert event.handlers == ()


def test_a_payload_of_another_type_is_refused():
    event = DomainEvent("test.event", UploadCompleted, "x.y")
    with pytest.raises(TypeError, match="carries UploadCompleted, not UploadDeleted"):
        event.send(UploadDeleted(upload=None))
