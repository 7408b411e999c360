"""Where originals (``bulk/``) and variants (``library/``) are kept.

``MEDIA_STORAGE_BACKEND=local`` (the default) keeps them as files under
``MEDIA_STORAGE_ROOT``; ``s3`` keeps them in one bucket of an S3-compatible store (AWS S3,
Cloudflare R2, MinIO) under the same relative names, so several VM hosts share them, and
uses only ``MEDIA_STORAGE_ROOT/s3-work/`` locally, for the images being worked on (one
folder per claim). ``python -m media_vm copy-to-bucket`` moves a local tree over. The media DB records
relative names (``bulk/2026-11-22/{media_id}.jpg``), never where they are kept.
"""

from __future__ import annotations

from media_vm.config import Settings
from media_vm.storage.local import IMMUTABLE, ORIGINAL_EXTENSIONS, LocalStorage

__all__ = ["IMMUTABLE", "ORIGINAL_EXTENSIONS", "LocalStorage", "make_storage"]


def make_storage(settings: Settings) -> LocalStorage:
    """The store the settings name."""
    if settings.storage_backend == "s3":
        from media_vm.storage.s3 import S3Storage

        assert settings.s3 is not None  # Settings.from_env refuses s3 without its settings
        return S3Storage(settings.storage_root, settings.s3)
    return LocalStorage(settings.storage_root)
