"""The one pagination of the API's lists (``/api/uploads``, ``/api/artworks``,
``/api/users/{username}/artworks``).

A cursor is DRF's (base64 of ``o=<offset>&r=<reverse>&p=<position>``) signed with the
server's secret key (``django.core.signing``, salt :data:`CURSOR_SALT` and the list's path): the
server only ever reads back a cursor it issued for that list. Anything else (another list's,
not signed, tampered, undecodable, a forged position such as ``p=notadate`` that the database
would choke on, a negative offset) is a 400 naming ``cursor``, never a 500 or a page of
something else. A cursor signed with a key the server no longer has (``DJANGO_SECRET_KEY``
rotated without keeping the old one in the fallbacks) is refused the same way: the client
starts again from the first page.
"""

from __future__ import annotations

from base64 import b64decode, b64encode
from typing import Any
from urllib import parse

from django.core import signing
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.utils.urls import replace_query_param

from main_api.common.schema import ERROR

#: The salt of the cursors' signature (a cursor is no valid signed value anywhere else).
CURSOR_SALT = "main_api.pagination.cursor"
#: What a refused cursor's 400 says in ``extra.fields.cursor``.
INVALID_CURSOR = "not a cursor this server issued: use next or previous of a page as given, or leave it out"

#: The query parameters of every paginated list, for ``extend_schema(parameters=...)``.
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", OpenApiTypes.STR,
                     description="next or previous of the page before, as given (signed); 400 for any other value"),
    OpenApiParameter("limit", OpenApiTypes.INT, description="page size, 1-100 (20)"),
]
#: The 400 of every paginated list: a cursor the server did not issue (``extra.fields.cursor``).
BAD_CURSOR_RESPONSE = OpenApiResponse(
    ERROR, description="a cursor the server did not issue (forged, tampered, undecodable): "
    "extra.fields.cursor says so")


def page_of(component_name: str, item: serializers.BaseSerializer) -> serializers.Serializer:
    """The schema of one page of a paginated list (what :class:`NewestFirstPagination`'s views
    answer): ``{"next", "previous", "results": [item, ...]}``, named ``component_name``."""
    return inline_serializer(component_name, {
        "next": serializers.CharField(allow_null=True, help_text="the URL of the next (older) page; null on the last"),
        "previous": serializers.CharField(allow_null=True, help_text="the URL of the previous (newer) page; null "
                                          "on the first"),
        "results": item,
    })


class NewestFirstPagination(CursorPagination):
    """Newest first, by creation time (ties by id); ``?cursor=`` from ``next``/``previous``,
    ``?limit=`` (1-100, default 20). A cursor, not a page number: rows added while a client
    pages never shift or repeat what it sees (DRF's ``CursorPagination``). Cursors are signed
    (see the module doc): one the server did not issue is a ``ValidationError`` (400) naming
    ``cursor``."""

    ordering = ("-created_at", "-id")
    page_size = 20
    page_size_query_param = "limit"
    max_page_size = 100

    @staticmethod
    def _signer(request: Any) -> signing.Signer:
        # salted with the list's path too: a cursor of one list is refused by every other
        return signing.Signer(salt=f"{CURSOR_SALT}:{request.path}")

    def encode_cursor(self, cursor: Cursor) -> str:
        """The URL of the page at ``cursor``: DRF's encoding, signed."""
        tokens: dict[str, str] = {}
        if cursor.offset != 0:
            tokens["o"] = str(cursor.offset)
        if cursor.reverse:
            tokens["r"] = "1"
        if cursor.position is not None:
            tokens["p"] = cursor.position
        encoded = b64encode(parse.urlencode(tokens, doseq=True).encode("ascii")).decode("ascii")
        signed = self._signer(self.request).sign(encoded)
        return replace_query_param(self.base_url, self.cursor_query_param, signed)

    def decode_cursor(self, request: Any) -> Cursor | None:
        """The ``Cursor`` of ``?cursor=`` (None without one); a ``ValidationError`` for any
        cursor this server did not sign. An empty ``?cursor=`` is the first page, as none is."""
        signed = request.query_params.get(self.cursor_query_param)
        if not signed:
            return None
        try:
            encoded = self._signer(request).unsign(signed)
            tokens = parse.parse_qs(b64decode(encoded.encode("ascii"), validate=True).decode("ascii"),
                                    keep_blank_values=True, strict_parsing=False)
            offset = int(tokens.get("o", ["0"])[0])
            reverse = bool(int(tokens.get("r", ["0"])[0]))
            position = tokens.get("p", [None])[0]
        except (signing.BadSignature, ValueError, TypeError, UnicodeError) as e:
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]}) from e
        if not 0 <= offset <= self.offset_cutoff:  # we never issue another (a signed cursor is ours)
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]})
        return Cursor(offset=offset, reverse=reverse, position=position)
