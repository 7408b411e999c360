"""Failpoints: named places where a fault-injection test can make the worker pause.

Inert unless ``MEDIA_VM_FAILPOINTS`` is set, e.g. ``resize_optimize=sleep:5`` or
``retrieve_file=sleep:3,update_callback=sleep:3``. The fault suite uses them to hold a
worker inside a given step long enough to SIGKILL it there or let its lease expire; a
production deployment never sets the variable.
"""

from __future__ import annotations

import logging
import os
import time

log = logging.getLogger(__name__)


def _parse(raw: str) -> dict[str, float]:
    points: dict[str, float] = {}
    for item in filter(None, (p.strip() for p in raw.split(","))):
        name, _, action = item.partition("=")
        kind, _, arg = action.partition(":")
        if kind != "sleep":
            raise ValueError(f"MEDIA_VM_FAILPOINTS: unknown action {action!r} (only sleep:SECONDS)")
        points[name.strip()] = float(arg)
    return points


_POINTS = _parse(os.environ.get("MEDIA_VM_FAILPOINTS", ""))


def failpoint(name: str) -> None:
    """Pause here if a test asked for it; nothing otherwise."""
    seconds = _POINTS.get(name)
    if seconds:
        log.warning("failpoint %s: sleeping %.1fs", name, seconds)
        time.sleep(seconds)
