"""``MEDIA_STORAGE_BACKEND=local``: ``bulk/`` and ``library/`` as files under ``MEDIA_STORAGE_ROOT``.

The files under the root *are* the store, so the work folder of a claim is the root itself:
``fetch`` returns the stored file, ``publish`` and ``discard`` have nothing to do. Every file
lands by rename (:func:`media_vm.atomic.write_atomic`), so a reader never sees a half-written one.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from media_vm.atomic import write_atomic
from media_vm.storage.base import Storage, check_work_folder, disk_health
from media_vm.storage.names import TOP_LEVELS, check_name, check_prefix

CHUNK_BYTES = 256 * 1024


class LocalStorage(Storage):
    """The store as files under ``root`` (created on first write). Methods as documented on
    :class:`~media_vm.storage.base.Storage`; :meth:`signed_url` and :meth:`redirect` are
    ``None`` (``/serve`` sends the file itself, or nginx does)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r})"

    def path(self, name: str) -> Path:
        full = (self.root / check_name(name)).resolve()
        root = self.root.resolve()
        if root not in full.parents:  # a symlink out of the tree
            raise ValueError(f"path escapes the storage root: {name!r}")
        return full

    # -- reading -------------------------------------------------------------------------

    def open(self, name: str) -> tuple[IO[bytes], int]:
        fh = open(self.path(name), "rb")  # noqa: SIM115 - the caller closes it
        try:
            return fh, self._regular_size(os.fstat(fh.fileno()), name)
        except BaseException:
            fh.close()
            raise

    def size(self, name: str) -> int:
        return self._regular_size(self.path(name).stat(), name)

    @staticmethod
    def _regular_size(st: os.stat_result, name: str) -> int:
        if not stat.S_ISREG(st.st_mode):
            raise FileNotFoundError(f"not a stored object: {name}")
        return st.st_size

    def list_names(self, prefix: str = "") -> list[str]:
        check_prefix(prefix)
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        tops = [self.root / folder] if folder else [self.root / top for top in TOP_LEVELS]
        found = []
        for top in tops:
            for path in top.rglob("*") if top.is_dir() else ():
                name = path.relative_to(self.root).as_posix()
                # hidden files include the temp files of writes in progress (.{name}.tmp-...)
                if name.startswith(prefix) and not any(p.startswith(".") for p in name.split("/")) and path.is_file():
                    found.append(name)
        return sorted(found)

    # -- writing -------------------------------------------------------------------------

    def write_stream(self, name: str, chunks: Iterable[bytes], *, max_bytes: int) -> int:
        final = self.path(name)
        final.parent.mkdir(parents=True, exist_ok=True)
        return write_atomic(final, chunks, max_bytes=max_bytes)

    def write_file(self, name: str, source: Path) -> int:
        final = self.path(name)
        final.parent.mkdir(parents=True, exist_ok=True)
        with open(source, "rb") as fh:
            return write_atomic(final, iter(lambda: fh.read(CHUNK_BYTES), b""))

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    # -- the work folder: the root itself --------------------------------------------------

    def for_claim(self, token: str) -> LocalStorage:
        check_work_folder(token)
        return self

    def discard(self) -> None:
        pass

    def fetch(self, name: str) -> Path:
        path = self.path(name)
        if not path.is_file():
            raise FileNotFoundError(f"not stored: {name}")
        return path

    def publish(self, names: Sequence[str]) -> None:
        for name in names:  # already in place; a name that was never written is a bug upstream
            self.size(name)

    def health(self) -> str:
        return disk_health(self.root)
