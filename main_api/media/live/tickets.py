"""Event stream tickets: ``EventSource`` cannot send an ``Authorization`` header, so a browser asks for a
ticket (``POST /api/uploads/events/ticket``), a signed, timestamped user id valid
``UPLOAD_EVENT_TICKET_SECONDS`` (600) for every reconnect within them; the long-lived token
never goes into a URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone

# the module's former name: tickets issued before the move stay valid
_TICKET_SALT = "main_api.media.events.ticket"


# --- tickets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ticket:
    """A signed ticket for ``GET /api/uploads/events?ticket=...`` and when it expires."""

    ticket: str
    expires_at: datetime


def event_ticket_issue(*, user_id: int) -> Ticket:
    """A ticket bound to ``user_id``, valid ``UPLOAD_EVENT_TICKET_SECONDS`` from now (Django's
    ``TimestampSigner`` over the id, keyed by ``SECRET_KEY``)."""
    ticket = signing.TimestampSigner(salt=_TICKET_SALT).sign(str(int(user_id)))
    return Ticket(ticket, timezone.now() + timedelta(seconds=settings.UPLOAD_EVENT_TICKET_SECONDS))


def event_ticket_active_user(ticket: str) -> int | None:
    """:func:`event_ticket_user`, and only while that user is still active."""
    from django.contrib.auth import get_user_model

    user_id = event_ticket_user(ticket)
    if user_id is None or not get_user_model().objects.filter(pk=user_id, is_active=True).exists():
        return None
    return user_id


def event_ticket_user(ticket: str) -> int | None:
    """The user id a ticket was issued to, or None when it is forged, malformed or expired."""
    try:
        value = signing.TimestampSigner(salt=_TICKET_SALT).unsign(
            ticket, max_age=settings.UPLOAD_EVENT_TICKET_SECONDS)
        return int(value)
    except (signing.BadSignature, ValueError):
        return None
