"""Content negotiation for ``/serve``: which stored format answers a request's ``Accept``."""

from __future__ import annotations

import re

from shared.sizes import NEGOTIATION_ORDER, ImageFormat

#: ``?format=`` values and the stored format each names (``auto``: negotiate).
FORMAT_ALIASES = {"jpg": "jpeg", "auto": "auto", "": "auto"} | {f.value: f.value for f in ImageFormat}
_ACCEPT_ITEM = re.compile(r"^\s*([^;\s]+)\s*(?:;(.*))?$")


def accepted_types(header: str) -> set[str]:
    """Media types the client accepts with q > 0 (lower-cased, wildcards kept as given)."""
    accepted = set()
    for part in header.split(","):
        m = _ACCEPT_ITEM.match(part)
        if not m:
            continue
        q = 1.0
        for param in (m.group(2) or "").split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            accepted.add(m.group(1).lower())
    return accepted


def negotiate(available: set[str], accept: str, *, needs_alpha: bool) -> str | None:
    """The format (an :class:`ImageFormat` value) to answer with, of those ``available``:
    AVIF, then WebP, then JPEG (PNG instead of JPEG when transparency must survive); when the
    size exists in one format the client did not name (a preset's ``hq`` is WebP only), that one,
    since the client asked for that output; ``None`` when none is available.

    A browser names AVIF and WebP explicitly when it decodes them; ``*/*`` alone only
    promises the old formats. An empty ``accept`` counts as ``*/*``.
    """
    accepted = accepted_types(accept) if accept else {"*/*"}
    for fmt in NEGOTIATION_ORDER:
        if fmt is ImageFormat.JPEG:
            break
        if fmt.value in available and fmt.mime_type in accepted:
            return fmt.value
    fallback = ("png", "jpeg") if needs_alpha else ("jpeg", "png")
    for name in fallback:
        if name in available:
            return name
    return next((fmt.value for fmt in ImageFormat if fmt.value in available), None)
