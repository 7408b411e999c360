"""Files a test looks for on disk."""

from __future__ import annotations

from pathlib import Path


def files_under(root: Path | str) -> list[Path]:
    """Every file below ``root``, sorted (hidden partial files included); ``[]`` when ``root``
    does not exist."""
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
