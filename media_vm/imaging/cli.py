"""``python -m media_vm process FILE... [--out DIR] [--data-type T]``: the pipeline on local files.

For operators and benchmarks: the same analysis and variants the worker makes, no API, no DB.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from media_vm.exceptions import ImageProcessingError, ImageRejected
from media_vm.imaging.analysis import analyse_file
from media_vm.imaging.cropping import crop_focus
from media_vm.imaging.sizing import size_order
from media_vm.imaging.variants import make_variants
from shared.data_types import DataType


def process_command(files: list[Path], out: Path, data_type: str = "product", *, watermark: str | None = None,
                    stdout: TextIO | None = None) -> int:
    """Analyse and make the variants of each file into ``out/<file stem>/``: the sizes of
    ``data_type`` (``shared.sizes.sizes_for``), those of ``WATERMARKED_SIZES`` marked with
    ``watermark`` when given.

    Prints one line per file (dimensions, sizes, formats, milliseconds) and then a JSON
    summary. Returns 1 if any file was rejected or failed (its reason is printed), 2 for a
    bad ``data_type``, 0 otherwise.
    """
    stream = stdout or sys.stdout
    try:
        kind = DataType(data_type)
    except ValueError:
        choices = ", ".join(t.value for t in DataType)
        print(f"unknown data type {data_type!r} (choose from {choices})", file=stream)
        return 2

    results = [_process_one(Path(f), Path(out), kind, stream, watermark) for f in files]
    summary = {
        "data_type": kind.value,
        "out": str(out),
        "processed": sum(r["status"] == "processed" for r in results),
        "rejected": sum(r["status"] == "rejected" for r in results),
        "failed": sum(r["status"] == "failed" for r in results),
        "files": results,
    }
    print(json.dumps(summary, indent=2), file=stream)
    return 0 if summary["processed"] == len(results) else 1


def _process_one(path: Path, out: Path, data_type: DataType, stream: TextIO,
                 watermark: str | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    result: dict[str, Any] = {"file": str(path)}
    try:
        analysis = analyse_file(path, data_type=data_type)
        variants = make_variants(
            path, out / path.stem, stem=_safe_stem(path.stem), data_type=data_type, focus=crop_focus(analysis),
            watermark=watermark,
        )
    except ImageRejected as e:
        result.update(status="rejected", reason=str(e), ms=_ms(started))
        print(f"{path}: rejected: {e}", file=stream)
        return result
    except ImageProcessingError as e:
        result.update(status="failed", reason=str(e), ms=_ms(started))
        print(f"{path}: failed: {e}", file=stream)
        return result
    ms = _ms(started)
    sizes = sorted({v.size for v in variants}, key=size_order(data_type).__getitem__)
    formats = sorted({v.format for v in variants})
    total = sum(v.bytes for v in variants)
    nobg = any(v.bg == "removed" for v in variants)
    print(
        f"{path}: {analysis['width']}x{analysis['height']} {analysis['format']} -> {len(variants)} files "
        f"({total / 1024:.0f} KiB), sizes {','.join(sizes)}, formats {','.join(formats)}"
        f"{', background removed' if nobg else ''}, {ms} ms",
        file=stream,
    )
    result.update(
        status="processed",
        ms=ms,
        out_dir=str(out / path.stem),
        width=analysis["width"],
        height=analysis["height"],
        format=analysis["format"],
        sizes=sizes,
        formats=formats,
        files=len(variants),
        bytes=total,
        quality_score=analysis["quality_score"],
        dominant_colors=[c["name"] for c in analysis["dominant_colors"]],
        variants=[
            {
                "size": v.size,
                "format": v.format,
                "bg": v.bg,
                "name": v.path.name,
                "width": v.width,
                "height": v.height,
                "bytes": v.bytes,
            }
            for v in variants
        ],
    )
    return result


def _safe_stem(stem: str) -> str:
    """A file name stem usable by :func:`make_variants` (letters, digits, ``_.-``)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).lstrip("._-")
    return cleaned or "image"


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
