"""Where originals (``bulk/``) and variants (``library/``) are kept.

:class:`Storage` (:mod:`.base`) is the interface every caller names; :mod:`.names` builds and
checks the storage names. Two sibling backends implement it:
``MEDIA_STORAGE_BACKEND=local`` (the default, :mod:`.local`) keeps them as files under
``MEDIA_STORAGE_ROOT``; ``s3`` (:mod:`.s3`) keeps them in one bucket of an S3-compatible store
(AWS S3, Cloudflare R2, MinIO) under the same names, so several VM hosts share them, and
uses only ``MEDIA_STORAGE_ROOT/s3-work/`` locally, for the images being worked on (one
folder per claim). ``python -m media_vm copy-to-bucket`` (:mod:`.copy`) moves a local tree
over. The media DB records storage names (``bulk/2026-11-22/{media_id}.jpg``), never where
they are kept.
"""

from __future__ import annotations

from media_vm.config import Settings
from media_vm.storage.base import Redirect, Storage
from media_vm.storage.local import LocalStorage
from media_vm.storage.names import IMMUTABLE, ORIGINAL_EXTENSIONS

__all__ = ["IMMUTABLE", "ORIGINAL_EXTENSIONS", "LocalStorage", "Redirect", "Storage", "make_storage"]


def make_storage(settings: Settings) -> Storage:
    """The store the settings name: :class:`LocalStorage` on ``settings.storage_root``, or
    (``storage_backend == "s3"``) an ``S3Storage`` with its work folders there."""
    if settings.storage_backend == "s3":
        from media_vm.storage.s3 import S3Storage  # boto3 is imported only where it is used

        assert settings.s3 is not None  # Settings.from_env refuses s3 without its settings
        return S3Storage(settings.storage_root, settings.s3)
    return LocalStorage(settings.storage_root)
