"""The storage interface every backend implements (:mod:`.local`, :mod:`.s3`), and one test
suite proves (``tests/media_vm/storage/contract.py``).

Objects are named by storage names (:mod:`.names`): ``bulk/...`` for originals,
``library/...`` for variants. A name outside those, or with ``..``, is refused with
``ValueError`` by every method that takes one. A missing object is ``FileNotFoundError``;
a store that cannot be reached or refuses is :class:`~media_vm.exceptions.StorageUnavailable`
(an ``OSError``, which the worker treats as the environment's fault and retries).

The work folder: the image steps need files on this host's disk (libvips reads and writes
paths). ``for_claim(token)`` gives a claim the store as seen from its own folder: ``path()``
is where a step writes, ``fetch()`` a local copy to read, ``publish()`` makes what was
written part of the store, ``discard()`` drops the folder. For local storage the folder is
the store itself and those are no-ops.

Why an ABC and not a ``typing.Protocol``: both backends are ours and inherit from it, so the
shared naming (``bulk_relpath``/``library_reldir``) and the defaults of what a backend may
not support (signed URLs, redirects, sweeping) live here once, and a backend missing a
method fails when it is made, not when that method is first called in production.
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

import media_vm.storage.names as storage_names


@dataclass(frozen=True)
class Redirect:
    """Where ``/serve`` sends a client instead of sending the bytes itself."""

    #: a URL the client may GET the object at (signed; expires)
    url: str
    #: seconds a client may keep (cache) the redirect itself
    max_age: int


class Storage(ABC):
    """Where originals and variants are kept; see the module docstring for the conventions."""

    #: True when the store is not this host's disk: work folders are then scratch space that
    #: the healing cycle sweeps (:meth:`sweep_working_copies`).
    remote = False

    # -- names -------------------------------------------------------------------------

    def bulk_relpath(self, media_id: str, mime_type: str, day: date) -> str:
        """``bulk/YYYY-MM-DD/{media_id}.{ext}`` for an untouched original."""
        return storage_names.bulk_relpath(media_id, mime_type, day)

    def library_reldir(self, user_id: int, data_type: str) -> str:
        """``library/user_{id}/{data_type}/img`` where an image's variants live."""
        return storage_names.library_reldir(user_id, data_type)

    # -- reading -----------------------------------------------------------------------

    @abstractmethod
    def open(self, name: str) -> tuple[IO[bytes], int]:
        """An open binary stream of the stored object and its size in bytes; the caller
        closes the stream. ``FileNotFoundError`` if absent."""

    @abstractmethod
    def size(self, name: str) -> int:
        """Size of the stored object in bytes; ``FileNotFoundError`` if absent."""

    def exists(self, name: str) -> bool:
        """True when an object is stored under ``name``."""
        try:
            self.size(name)
        except FileNotFoundError:
            return False
        return True

    @abstractmethod
    def list_names(self, prefix: str = "") -> list[str]:
        """Sorted names of the stored objects whose name starts with ``prefix`` (``""``: all;
        ``"library/user_7/"``: one user's variants). Temp files of writes in progress are
        never listed."""

    def signed_url(self, name: str, *, expires: int | None = None) -> str | None:
        """A URL anyone may GET the object at for ``expires`` seconds (the backend's default
        when ``None``), or ``None`` when the backend has no such URLs (local files). Made
        without asking the store whether the object exists."""
        return None

    def redirect(self, name: str) -> Redirect | None:
        """What ``/serve`` answers with instead of the bytes, when this store is configured to
        serve by redirect; ``None``: send the bytes (:meth:`open`)."""
        return None

    # -- writing (each atomic: a reader sees the whole object or none) -------------------

    @abstractmethod
    def write_stream(self, name: str, chunks: Iterable[bytes], *, max_bytes: int) -> int:
        """Store the chunks under ``name``; returns the byte count. ``ValueError`` past
        ``max_bytes``; then, or on any other failure, nothing is stored under ``name``.
        With a work folder the bytes also stay there, for :meth:`fetch`."""

    @abstractmethod
    def write_file(self, name: str, source: Path) -> int:
        """Store a copy of the local file ``source`` under ``name``; returns its size."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Remove the object (and this work folder's copy of it); a missing one is no error."""

    def delete_many(self, names: Iterable[str]) -> None:
        """Remove every named object (e.g. an image's original and variants, or what
        :meth:`list_names` found under a prefix); missing ones are no error."""
        for name in list(names):
            self.delete(name)

    # -- the work folder -----------------------------------------------------------------

    @abstractmethod
    def path(self, name: str) -> Path:
        """Where ``name`` lives in this work folder, on this host's disk (for local storage:
        the stored file itself). Names a directory too (``library_reldir``'s result)."""

    @abstractmethod
    def for_claim(self, token: str) -> Storage:
        """The store as one claim's steps see it, with a work folder of its own (no two
        workers ever share a working file). ``ValueError`` unless ``token`` is alphanumeric."""

    @abstractmethod
    def discard(self) -> None:
        """Drop this work folder once the worker is done with the image (stored objects stay)."""

    @abstractmethod
    def fetch(self, name: str) -> Path:
        """A local file holding the stored object's bytes, for the image steps to read
        (downloaded into the work folder when needed). ``FileNotFoundError`` if absent."""

    @abstractmethod
    def publish(self, names: Sequence[str]) -> None:
        """Make the files written at ``path(name)`` part of the store, all of them or (on an
        exception) none that the media DB will name; their working copies are not kept."""

    def sweep_working_copies(self, *, older_than: float) -> int:
        """Delete work folders untouched for ``older_than`` seconds (what a killed worker left);
        returns how many."""
        return 0

    # -- operations ------------------------------------------------------------------------

    @abstractmethod
    def health(self) -> str:
        """``"ok"``, or ``"error: ..."`` saying what is wrong, for ``/health``."""


def check_work_folder(token: str) -> str:
    """``token`` when it may name a work folder (alphanumeric), else ``ValueError``."""
    if not token.isalnum() or not token.isascii():
        raise ValueError(f"not a work folder name: {token!r}")
    return token


def disk_health(root: Path) -> str:
    """``"ok"`` when ``root`` exists (or can be made) and a file can be written in it."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".probe-{secrets.token_hex(4)}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError:
        return "error: not writable"
    return "ok"
