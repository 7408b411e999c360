"""Atomic file writes: a reader sees the old file, the new one, or nothing, never half of one."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from media_vm.exceptions import ImageProcessingError


def temp_name_for(path: Path) -> Path:
    """A hidden, unique sibling of ``path``: ``.{name}.tmp-{random}`` in the same folder
    (same file system, so ``os.replace`` is atomic)."""
    return path.with_name(f".{path.name}.tmp-{secrets.token_hex(6)}")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a synced temp file and ``os.replace``.

    On any failure the temp file is removed; an ``OSError`` becomes
    :class:`ImageProcessingError` (a disk problem is worth a retry).
    """
    tmp = temp_name_for(path)
    try:
        with open(tmp, "xb") as handle:
            handle.write(data)
            handle.flush()
            # Without this, a crash after the rename can leave an empty file at the final name.
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(e, OSError):
            raise ImageProcessingError(f"cannot write {path}: {e.strerror or e}") from e
        raise


def remove_quietly(paths: list[Path]) -> None:
    """Best-effort removal, for undoing a partial set of outputs."""
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()
