"""Temp originals under ``TEMP_IMAGES_DIR``, and their URL paths ``/temp_images/...``.

A temp file's name is always generated (``shared.naming.temp_file_name``); a URL path from
outside is only ever mapped back to a file after it has matched that shape exactly.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from shared.data_types import DataType, temp_subdir
from shared.naming import is_temp_file_name, temp_file_name

URL_PREFIX = "/temp_images/"
SUBDIRS = ("profiles", "sites")
_CHUNK = 256 * 1024


def temp_root() -> Path:
    """``TEMP_IMAGES_DIR`` as an absolute path."""
    return Path(settings.TEMP_IMAGES_DIR).resolve()


def new_temp_name(*, user_id: int, data_type: DataType, extension: str) -> tuple[str, Path]:
    """A fresh ``(url_path, file_path)`` pair for an upload of ``data_type``."""
    subdir = temp_subdir(DataType(data_type))
    name = temp_file_name(user_id, DataType(data_type), extension)
    return f"{URL_PREFIX}{subdir}/{name}", temp_root() / subdir / name


def file_for_url_path(url_path: str) -> Path | None:
    """The file behind ``/temp_images/<subdir>/<name>``, or None if the path is not one of ours.

    Only ``<subdir>`` in :data:`SUBDIRS` and a generated name pass, so ``..``, absolute
    paths, encoded separators and anything else never reach the file system.
    """
    if not url_path.startswith(URL_PREFIX):
        return None
    parts = url_path[len(URL_PREFIX) :].split("/")
    if len(parts) != 2 or parts[0] not in SUBDIRS or not is_temp_file_name(parts[1]):
        return None
    root = temp_root()
    path = (root / parts[0] / parts[1]).resolve()
    if path.parent.parent != root:  # belt and braces: a symlinked subdir must not lead out
        return None
    return path


def write_atomically(chunks: Iterable[bytes], path: Path) -> None:
    """Write ``chunks`` to ``path`` via a temp name in the same folder and ``os.replace``.

    A reader never sees a half-written file, and a failed write leaves nothing behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        with open(partial, "xb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def remove(url_path: str) -> bool:
    """Delete the temp file behind ``url_path``; True if there was one."""
    path = file_for_url_path(url_path)
    if path is None or not path.is_file():
        return False
    path.unlink(missing_ok=True)
    return True


@contextmanager
def removed_on_error() -> Iterator[list[Path]]:
    """Collects the paths written inside the block; deletes them all if the block raises."""
    written: list[Path] = []
    try:
        yield written
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def iter_chunks(file) -> Iterator[bytes]:
    """The bytes of an uploaded (or any binary) file, from its start, in chunks."""
    file.seek(0)
    if hasattr(file, "chunks"):
        yield from file.chunks(_CHUNK)
        return
    while chunk := file.read(_CHUNK):
        yield chunk
