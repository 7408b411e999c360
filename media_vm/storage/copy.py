"""``python -m media_vm copy-to-bucket``: move a local deployment's files into the bucket.

Copies ``bulk/`` and ``library/`` from a local tree (by default ``MEDIA_STORAGE_ROOT``, as
the local backend left it) into the configured bucket under the same names, with the
content types and ``Cache-Control`` the VM itself gives its objects. Objects already in
the bucket are skipped, so it can be run again after an interruption. It ends by checking
that every file the media DB names is in the bucket.
"""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

from media_vm.db import Repository
from media_vm.storage.local import LocalStorage
from media_vm.storage.s3 import UPLOAD_THREADS, S3Storage

#: Seconds between two progress lines.
PROGRESS_EVERY = 2.0


def local_files(source: Path) -> list[str]:
    """Storage names of the files under ``source/bulk`` and ``source/library`` (no temp or
    hidden files; the S3 backend's work folders are beside them, never inside)."""
    return LocalStorage(source).list_names()


def copy_to_bucket(store: S3Storage, source: Path, repo: Repository, *, dry_run: bool = False,
                   out: TextIO = sys.stderr) -> dict[str, Any]:
    """Copy what is under ``source`` and not yet in ``store``; returns a summary (counts,
    bytes, the first failures and the names the media DB records that the store lacks).
    ``StorageUnavailable`` when the store cannot even be listed."""
    files = local_files(source)
    present = set(store.list_names())
    todo = [name for name in files if name not in present]
    sizes = {name: (source / name).stat().st_size for name in todo}
    total_bytes = sum(sizes.values())
    print(f"{len(files)} files under {source}: {len(files) - len(todo)} already in bucket {store.bucket}, "
          f"{len(todo)} to copy ({total_bytes / 1e6:.1f} MB){' (dry run)' if dry_run else ''}", file=out)
    stored: list[str] = []
    failed: list[str] = []
    copied_bytes = 0
    lock = threading.Lock()
    last = time.monotonic()

    def one(name: str) -> None:
        nonlocal copied_bytes, last
        try:
            store.write_file(name, source / name)
        except OSError as e:
            with lock:
                failed.append(f"{name}: {e}")
            return
        with lock:
            stored.append(name)
            copied_bytes += sizes[name]
            if time.monotonic() - last >= PROGRESS_EVERY or len(stored) == len(todo):
                last = time.monotonic()
                print(f"copied {len(stored)}/{len(todo)} files, {copied_bytes / 1e6:.1f}/{total_bytes / 1e6:.1f} MB",
                      file=out, flush=True)

    if not dry_run and todo:
        with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
            for _ in pool.map(one, todo):
                pass
    missing = sorted(repo.stored_names() - present - set(stored))
    return {"files": len(files), "already_there": len(files) - len(todo), "copied": len(stored),
            "bytes": copied_bytes, "failed": failed[:20], "failed_count": len(failed),
            "named_by_media_db_but_not_in_bucket": missing[:20], "missing_count": len(missing)}
