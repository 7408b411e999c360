"""Who is calling: a user with a DRF token, or the media VM with a media key.

Users send ``Authorization: Token <t>`` (``Bearer <t>`` works too). The media VM sends
``Authorization: Bearer <MEDIA_API_KEY>``; during a key rotation several keys are valid.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

MEDIA_KEY_REALM = 'Bearer realm="media"'


class UserTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, taking the ``Bearer`` keyword as well as ``Token``."""

    keywords = ("token", "bearer")

    def authenticate(self, request: Request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].decode("latin-1").lower() not in self.keywords:
            return None
        # Let the parent parse "Token <t>" exactly as it always does.
        self.keyword = parts[0].decode("latin-1")
        return super().authenticate(request)

    def authenticate_header(self, request: Request) -> str:
        return "Token"


@dataclass(frozen=True)
class MediaClient:
    """``request.auth`` of a call made with a valid media key; it never holds the key."""

    key_index: int


def media_key_matches(given: str) -> int | None:
    """Index of the configured key equal to ``given``, compared in constant time, or None.

    Every configured key is compared, even after a match, so the time taken says nothing
    about which key (or how much of it) was right.
    """
    given_bytes = given.encode("utf-8")
    matches = [hmac.compare_digest(given_bytes, key.encode("utf-8")) for key in settings.MEDIA_API_KEYS]
    return matches.index(True) if any(matches) else None


def bearer_value(request: Request) -> str | None:
    """The credential of an ``Authorization: Bearer <value>`` header, if there is one."""
    parts = get_authorization_header(request).split()
    if len(parts) != 2 or parts[0].lower() != b"bearer":
        return None
    try:
        return parts[1].decode("utf-8")
    except UnicodeDecodeError:
        return None


class MediaKeyAuthentication:
    """Authenticates the media VM by its key; anything else is left to the next class.

    A Bearer value that is not a media key is not an error here: on ``/temp_images`` the
    same header may carry a user's token instead.
    """

    def authenticate(self, request: Request):
        value = bearer_value(request)
        if not value:
            return None
        index = media_key_matches(value)
        if index is None:
            return None
        return AnonymousUser(), MediaClient(key_index=index)

    def authenticate_header(self, request: Request) -> str:
        # Present so that DRF answers 401 (not 403) when the key is missing or wrong.
        return MEDIA_KEY_REALM


class HasMediaKey(BasePermission):
    """Allows only calls authenticated by :class:`MediaKeyAuthentication`."""

    message = "A valid media key is required (Authorization: Bearer <MEDIA_API_KEY>)."

    def has_permission(self, request: Request, view) -> bool:
        return isinstance(request.auth, MediaClient)
