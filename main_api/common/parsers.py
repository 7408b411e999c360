"""Request body parsers: DRF's, with the failures a hostile body can cause answered as 400.

Python's ``json`` recurses once per nesting level: a body of 100 000 ``[`` raises
``RecursionError``, which DRF's :class:`~rest_framework.parsers.JSONParser` does not catch (it
catches ``ValueError``), so the request ended in a 500. :class:`JSONParser` answers it as the
parse error it is. ``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]`` names it, and so does every view
that lists its parsers.
"""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a body nested deeper than Python can parse is a 400, not a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None) -> Any:
        """The parsed body; :class:`ParseError` (400) for malformed or too deeply nested JSON."""
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as e:
            # Raised after the stack has unwound: nothing is left half-done to clean up.
            raise ParseError("JSON parse error - nested too deeply") from e
