"""Local storage under ``MEDIA_STORAGE_ROOT``: ``bulk/`` originals and ``library/`` variants.

Every path is built from ids the VM made itself (media id, user id, data type, date),
never from data in a payload, and every file lands by rename, so a reader never sees a
half-written one.

The methods a remote store overrides (:mod:`media_vm.storage.s3`) are no-ops here: the
files under the root *are* the store, so there is nothing to publish, fetch or forget.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import IO

from shared.data_types import DataType
from shared.naming import ACCEPTED_TYPES

#: Extension of a stored original by the mime type the main API sniffed.
ORIGINAL_EXTENSIONS = ACCEPTED_TYPES
#: How variants may be cached: a media id's variants never change (re-processing makes a new id).
IMMUTABLE = "public, max-age=31536000, immutable"


class LocalStorage:
    #: True when ``/serve`` must read variants from elsewhere than the local root.
    remote = False

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r})"

    def bulk_relpath(self, media_id: str, mime_type: str, day: date) -> str:
        """``bulk/YYYY-MM-DD/{media_id}.{ext}`` for an untouched original."""
        ext = ORIGINAL_EXTENSIONS.get(mime_type, "bin")
        return f"bulk/{day.isoformat()}/{media_id}.{ext}"

    def library_reldir(self, user_id: int, data_type: str) -> str:
        """``library/user_{id}/{data_type}/img`` where an image's variants live."""
        return f"library/user_{int(user_id)}/{DataType(data_type).value}/img"

    def path(self, relpath: str) -> Path:
        """Absolute path of a stored file; refuses anything that would leave the root."""
        full = (self.root / relpath).resolve()
        root = self.root.resolve()
        if root != full and root not in full.parents:
            raise ValueError(f"path escapes the storage root: {relpath!r}")
        return full

    def write_stream(self, relpath: str, chunks: Iterable[bytes], *, max_bytes: int) -> int:
        """Write chunks to ``relpath`` atomically; returns the byte count.

        Raises ValueError past ``max_bytes`` and OSError when the disk refuses; either way
        nothing is left at the final name nor under a temp name.
        """
        final = self.path(relpath)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.tmp-{secrets.token_hex(4)}")
        total = 0
        try:
            with open(tmp, "wb") as fh:
                for chunk in chunks:
                    total += len(chunk)
                    if total > max_bytes:
                        raise ValueError(f"original is larger than {max_bytes} bytes")
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return total

    # -- what a remote store does differently (nothing, here) ---------------------------

    def for_claim(self, token: str) -> LocalStorage:
        """The storage one claim's steps use (a remote store gives each its own work folder)."""
        return self

    def discard(self) -> None:
        """Drop a claim's work folder once the worker is done with the image."""

    def fetch(self, relpath: str) -> Path:
        """A local file holding ``relpath``'s bytes, for the image steps to read."""
        return self.path(relpath)

    def publish(self, relpaths: Sequence[str]) -> None:
        """Make files written under the root at ``relpaths`` part of the store."""

    def forget(self, relpath: str) -> None:
        """Drop this host's working copy of ``relpath`` (the store keeps it)."""

    def sweep_working_copies(self, *, older_than: float) -> int:
        """Delete work folders untouched for ``older_than`` seconds; how many."""
        return 0

    def open_stored(self, relpath: str) -> tuple[IO[bytes], int]:
        """An open binary file of a stored object and its size; FileNotFoundError if absent."""
        fh = open(self.path(relpath), "rb")  # noqa: SIM115 - the caller closes it
        return fh, os.fstat(fh.fileno()).st_size

    def stored_size(self, relpath: str) -> int:
        """Size of a stored object; FileNotFoundError if absent."""
        return self.path(relpath).stat().st_size

    def health(self) -> str:
        """"ok", or what is wrong, for ``/health``."""
        return "ok" if self.writable() else "error: not writable"

    def writable(self) -> bool:
        """True when the root exists (or can be made) and a file can be written in it."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".probe-{secrets.token_hex(4)}"
            probe.write_bytes(b"ok")
            probe.unlink()
            return True
        except OSError:
            return False
