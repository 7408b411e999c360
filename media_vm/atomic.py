"""Atomic file writes, the media VM's one writer: a reader sees the old file, the new one, or
nothing, never half of one.

Used by the image code (variants) and by the storage backends (originals, downloads, local
copies). It imports neither pyvips nor a storage backend, so both may import it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from media_vm.exceptions import TooLarge


def temp_name_for(path: Path) -> Path:
    """A hidden, unique sibling of ``path``: ``.{name}.tmp-{random}`` in the same folder
    (same file system, so ``os.replace`` is atomic)."""
    return path.with_name(f".{path.name}.tmp-{secrets.token_hex(6)}")


def is_temp_name(name: str) -> bool:
    """True for a name :func:`temp_name_for` makes (a write in progress, or one a crash left)."""
    return name.startswith(".") and ".tmp-" in name


def write_atomic(path: Path, data: bytes | Iterable[bytes], *, max_bytes: int | None = None) -> int:
    """Write ``data`` (bytes, or chunks of bytes) to ``path`` through a synced temp file and
    ``os.replace``; returns the number of bytes written.

    Raises :class:`~media_vm.exceptions.TooLarge` (a ``ValueError``) once more than
    ``max_bytes`` arrived, and the ``OSError`` of a disk
    that refuses; either way (and on any other exception, e.g. from the chunks' source)
    nothing is left at ``path``'s temp name and ``path`` is untouched.
    """
    chunks = (data,) if isinstance(data, bytes) else data
    tmp = temp_name_for(path)
    total = 0
    try:
        with open(tmp, "xb") as handle:
            for chunk in chunks:
                total += len(chunk)
                if max_bytes is not None and total > max_bytes:
                    raise TooLarge(f"{path.name} is larger than {max_bytes} bytes")
                handle.write(chunk)
            handle.flush()
            # Without this, a crash after the rename can leave an empty file at the final name.
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return total


def remove_quietly(paths: Iterable[Path]) -> None:
    """Best-effort removal, for undoing a partial set of outputs."""
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()
