"""The one pagination of the API's lists (uploads, artworks)."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class NewestFirstPagination(CursorPagination):
    """Newest first, by creation time (ties by id); ``?cursor=`` from ``next``/``previous``,
    ``?limit=`` (1-100, default 20). A cursor, not a page number: rows added while a client
    pages never shift or repeat what it sees (DRF's ``CursorPagination``)."""

    ordering = ("-created_at", "-id")
    page_size = 20
    page_size_query_param = "limit"
    max_page_size = 100
