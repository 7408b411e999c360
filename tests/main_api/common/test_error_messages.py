"""The error messages declared once (``main_api.common.error_messages``): the committed table of
``docs/reference/errors.md`` is what the code declares, and each declaration raises what it says."""

from __future__ import annotations

from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from main_api.common.error_messages import all_messages, errors_table
from main_api.common.exceptions import ApplicationError, ConflictError, GoneError, NotFoundError

TABLE = Path(__file__).resolve().parents[3] / "docs" / "reference" / "errors.md"


def test_the_committed_page_is_what_the_code_declares(db):
    """A new or reworded message shows in review as a change of this page (rewrite it with
    ``python -m main_api errors > docs/reference/errors.md``)."""
    assert TABLE.read_text() == errors_table()


def test_the_command_prints_the_page(db):
    out = StringIO()
    call_command("errors", stdout=out)
    assert out.getvalue() == errors_table()
    assert "| 404 | `no such upload` |" in out.getvalue()


def test_one_wording_per_case_within_a_resource(db):
    """Two cases of one resource never share a message, and each resource is listed once."""
    declared = all_messages()
    twice = [key for key, n in Counter((m.resource, m.message) for m in declared).items() if n > 1]
    assert twice == []
    headings = [line for line in errors_table().splitlines() if line.startswith("## ")]
    assert len(headings) == len(set(headings)) == len({m.resource for m in declared})


@pytest.mark.parametrize(("status", "cls"), [(404, NotFoundError), (409, ConflictError), (410, GoneError)])
def test_a_declared_message_raises_the_class_of_its_status(status, cls, db):
    message = next(m for m in all_messages() if m.status == status)
    error = message.error({"id": 1})
    assert type(error) is cls and error.status_code == status
    assert (error.message, error.extra) == (message.message, {"id": 1})


def test_a_template_is_filled(db):
    from main_api.media.errors import UNKNOWN_UPLOAD_FIELD

    error = UNKNOWN_UPLOAD_FIELD.error({"field": "avatar"}, field="avatar")
    assert isinstance(error, ApplicationError) and error.status_code == 400
    assert error.message == "unknown upload field 'avatar'"
