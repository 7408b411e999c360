"""Processing metrics of one image: time per step, original bytes, bytes per variant, and the
ratio of bytes written to bytes uploaded per output group.

Computed by the callback step once every other step is done (``image_metrics``), kept in the
analysis record (``analysis["processing"]``: the callback payload and the main API's stored
analysis carry it) and in ``media_output_stats`` (``/metrics`` histograms by data type and
preset), and logged as one JSON line per job (``job metrics``, field ``metrics``).

Shape::

    {"steps_ms": {"retrieve_file": 41, "make_thumbnail": 180, ...},   # started -> finished, ms
     "processing_ms": 1630,                                            # their sum
     "original_bytes": 2483117,                                        # null: not recorded
     "variant_bytes": {"thumbnail.avif": 9120, "detail.jpeg": 210044, "normal.jpeg": ...},
     "outputs": {"display": {"output_bytes": 1204410, "compression_ratio": 0.485},
                 "sora": {"output_bytes": 803311, "compression_ratio": 0.324}}}

An output group is ``display`` (the data type's sizes, every format, a logo's background-removed
set included) or the source tool whose preset outputs the rest are. ``compression_ratio`` is the
group's bytes over the original's (below 1: smaller than the upload), null without the original's
size. Variant keys are ``{size}.{format}``, ``_nobg`` before the dot for a removed background.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import RowMapping

from media_vm.checklist import Step
from media_vm.db import Repository
from shared.sizes import PRESET_OUTPUT_NAMES, SIZES_BY_NAME

DISPLAY = "display"


def image_metrics(repo: Repository, row: RowMapping) -> dict[str, Any]:
    """The metrics of the image ``row`` (a ``media_files`` row) from its checklist and variants."""
    steps_ms: dict[str, int] = {}
    for step, entry in repo.checklist(row["id"]).items():
        if step is Step.UPDATE_CALLBACK or entry["started_at"] is None or entry["finished_at"] is None:
            continue
        steps_ms[step.value] = max(0, round((entry["finished_at"] - entry["started_at"]).total_seconds() * 1000))
    variant_bytes: dict[str, int] = {}
    groups: dict[str, int] = {}
    for v in repo.variants(row["media_id"]):
        suffix = "_nobg" if v["bg"] == "removed" else ""
        variant_bytes[f"{v['size']}{suffix}.{v['format']}"] = int(v["bytes"])
        preset = DISPLAY
        if v["size"] in PRESET_OUTPUT_NAMES and v["size"] not in SIZES_BY_NAME:
            preset = row["source_tool"] or "preset"
        groups[preset] = groups.get(preset, 0) + int(v["bytes"])
    original = row["original_bytes"]
    return {
        "steps_ms": steps_ms,
        "processing_ms": sum(steps_ms.values()),
        "original_bytes": int(original) if original else None,
        "variant_bytes": dict(sorted(variant_bytes.items())),
        "outputs": {preset: {"output_bytes": total,
                             "compression_ratio": round(total / original, 4) if original else None}
                    for preset, total in sorted(groups.items())},
    }
