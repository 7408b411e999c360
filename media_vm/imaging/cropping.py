"""Where the subject-aware crops (thumbnail, grid, header) centre: faces first, then attention.

:func:`crop_focus` reads a stored analysis (``detected_objects``, see :mod:`.faces`), so the
variants are cut around what the analysis found without detecting anything twice. No pyvips.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Focus = tuple[float, float, float, float]


def _box(item: Mapping[str, Any]) -> Focus | None:
    box = item.get("box")
    if not isinstance(box, Mapping):
        return None
    try:
        x, y, w, h = (float(box[k]) for k in ("x", "y", "w", "h"))
    except (KeyError, TypeError, ValueError):
        return None
    if not (0 <= x <= 1 and 0 <= y <= 1 and 0 < w <= 1 and 0 < h <= 1):
        return None
    return x, y, w, h


def crop_focus(analysis: Mapping[str, Any] | None) -> Focus | None:
    """The (x, y, w, h) box (normalised) the crops must keep, or ``None`` (then libvips'
    own attention crop decides per size).

    Faces first: the box around every face the analysis found, or around the largest face
    alone when the faces spread over more than half the image (a crowd: keep one face
    whole rather than all of them cut). Otherwise the centre of the salient region
    (a point: the window centres on it).
    """
    objects = [o for o in (analysis or {}).get("detected_objects") or [] if isinstance(o, Mapping)]
    faces = [b for o in objects if o.get("label") == "face" and (b := _box(o)) is not None]
    if faces:
        x0 = min(f[0] for f in faces)
        y0 = min(f[1] for f in faces)
        x1 = max(f[0] + f[2] for f in faces)
        y1 = max(f[1] + f[3] for f in faces)
        if (x1 - x0) * (y1 - y0) > 0.5:
            return max(faces, key=lambda f: f[2] * f[3])
        return x0, y0, x1 - x0, y1 - y0
    for item in objects:
        if item.get("label") == "salient region":
            centre = item.get("centre")
            if isinstance(centre, Mapping):
                try:
                    cx, cy = float(centre["x"]), float(centre["y"])
                except (KeyError, TypeError, ValueError):
                    return None
                if 0 <= cx <= 1 and 0 <= cy <= 1:
                    return cx, cy, 0.0, 0.0
    return None
