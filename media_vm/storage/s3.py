"""``MEDIA_STORAGE_BACKEND=s3``: ``bulk/`` and ``library/`` in an S3-compatible bucket.

Objects are named ``{MEDIA_S3_PREFIX}{name}``, the storage names the local backend uses and
the media DB records, so a deployment can move from disk to bucket by copying the tree.
Locally, ``MEDIA_STORAGE_ROOT/s3-work/`` is this host's scratch space (a tree of files kept
there by the local backend is never touched), one work folder per claim so that no two
workers, threads or a worker that lost its lease ever share a working file:

- an original is downloaded there (atomically, size-capped), then uploaded; the local copy
  stays for the steps that read it;
- variants are encoded there, uploaded (several at once), then deleted;
- a step that needs an original another host retrieved downloads it there first;
- the folder is deleted when the worker lets go of the image; what a killed worker left is
  swept by the healing cycle.

So any worker on any host can take over any image at any step, and any VM's ``/serve``
answers for every image: it streams the object, or (``MEDIA_S3_SERVE=redirect``) redirects
to a signed URL.

Failures of the store (unreachable, credentials refused, 5xx after botocore's retries) are
raised as :class:`StorageUnavailable`, an ``OSError``: the worker keeps the upload and
retries with a capped backoff, as for a full disk. A missing object is ``FileNotFoundError``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from media_vm.atomic import write_atomic
from media_vm.config import S3Settings
from media_vm.defaults import MAX_ORIGINAL_BYTES
from media_vm.exceptions import StorageUnavailable
from media_vm.storage.base import Redirect, Storage, check_work_folder, disk_health
from media_vm.storage.names import cache_control, check_name, check_prefix, content_type

log = logging.getLogger(__name__)

#: Objects uploaded at once when a set of variants is published.
UPLOAD_THREADS = 8
CHUNK_BYTES = 256 * 1024
#: Signed URLs a store keeps for reuse (a few hundred bytes each).
SIGNED_URL_CACHE_SIZE = 20_000
#: Keys one DeleteObjects request may name (the S3 API's limit).
DELETE_BATCH = 1000
#: Under MEDIA_STORAGE_ROOT: the work folders, one per claim (plus "shared" for other uses).
WORK_DIR = "s3-work"
_MISSING = frozenset({"NoSuchKey"})


def make_client(settings: S3Settings) -> Any:
    """A thread-safe S3 client for the settings' endpoint (AWS when none is given)."""
    config = Config(
        signature_version="s3v4",  # R2 and recent MinIO accept nothing older
        s3={"addressing_style": settings.addressing_style},
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=60,
        max_pool_connections=32,
        # botocore >= 1.36 adds CRC checksums to every upload by default, which several
        # S3-compatible stores refuse; send them only where the API requires them
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    kwargs: dict[str, str] = {}
    if settings.endpoint_url:
        kwargs["endpoint_url"] = settings.endpoint_url
    if settings.region:
        kwargs["region_name"] = settings.region
    if settings.access_key_id:  # else boto3's own chain: AWS_* variables, ~/.aws, instance role
        kwargs["aws_access_key_id"] = settings.access_key_id
        kwargs["aws_secret_access_key"] = settings.secret_access_key
    return boto3.session.Session().client("s3", config=config, **kwargs)


class S3Storage(Storage):
    """The store as objects in ``settings.bucket``, with work folders under ``root/s3-work/``.
    Methods as documented on :class:`~media_vm.storage.base.Storage`.

    ``client`` is an S3 client (:func:`make_client`'s when ``None``); ``workspace`` names the
    work folder (``for_claim`` makes one per claim token).
    """

    remote = True

    def __init__(self, root: Path, settings: S3Settings, client: Any = None, *, workspace: str = "shared") -> None:
        self.work_root = Path(root) / WORK_DIR
        self.root = self.work_root / check_work_folder(workspace)
        self.settings = settings
        self.bucket = settings.bucket
        self.client = client if client is not None else make_client(settings)
        self._signed_lock = threading.Lock()
        self._signed: OrderedDict[str, tuple[str, float]] = OrderedDict()  # name -> (URL, signed at)

    def __repr__(self) -> str:
        where = self.settings.endpoint_url or "aws"
        return f"S3Storage(s3://{self.bucket}/{self.settings.prefix} at {where}, scratch {str(self.root)!r})"

    def key(self, name: str) -> str:
        """``MEDIA_S3_PREFIX`` + the storage name (``ValueError`` unless :func:`check_name` accepts it)."""
        return self.settings.prefix + check_name(name)

    @contextlib.contextmanager
    def _errors(self, action: str, name: str) -> Iterator[None]:
        """The store's failures as ``FileNotFoundError`` (no such key) or ``StorageUnavailable``."""
        where = self.settings.prefix + name
        try:
            yield
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                raise FileNotFoundError(f"not in bucket {self.bucket}: {where}") from e
            raise StorageUnavailable(f"object store refused to {action} {where}: {code}") from e
        except BotoCoreError as e:
            raise StorageUnavailable(f"object store could not {action} {where}: {e}") from e

    # -- reading -----------------------------------------------------------------------

    def open(self, name: str) -> tuple[IO[bytes], int]:
        with self._errors("read", name):
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(name))
        return answer["Body"], int(answer["ContentLength"])

    def size(self, name: str) -> int:
        # a one-byte GET, not a HEAD: a HEAD's error has no body, so a missing bucket (the
        # store's fault) would read as a missing object
        with self._errors("read", name):
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(name), Range="bytes=0-0")
        answer["Body"].close()
        return int(str(answer["ContentRange"]).rsplit("/", 1)[1])

    def list_names(self, prefix: str = "") -> list[str]:
        check_prefix(prefix)
        found = []
        start = len(self.settings.prefix)
        with self._errors("list", prefix + "*"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.settings.prefix + prefix)
            for page in pages:
                for obj in page.get("Contents", []):
                    with contextlib.suppress(ValueError):  # keys under the prefix that are not ours
                        found.append(check_name(obj["Key"][start:]))
        return sorted(found)

    def signed_url(self, name: str, *, expires: int | None = None) -> str:
        with self._errors("sign", name):
            return str(self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": self.key(name)},
                ExpiresIn=self.settings.url_expires if expires is None else expires,
            ))

    def redirect(self, name: str) -> Redirect | None:
        """With ``MEDIA_S3_SERVE=redirect``: a signed URL, reused for a quarter of its life
        (signing costs more than the rest of a request), which a client may keep for half its
        life; so when it is sent it is valid for at least three quarters of it. Only the
        browser may keep it (the caller says ``private``): a shared cache could hand it out
        after the signature expired."""
        if self.settings.serve != "redirect":
            return None
        expires = self.settings.url_expires
        now = time.time()
        with self._signed_lock:
            hit = self._signed.get(name)
            if hit is not None and 0 <= now - hit[1] < expires / 4:
                return Redirect(hit[0], expires // 2)
        url = self.signed_url(name, expires=expires)
        with self._signed_lock:
            self._signed[name] = (url, now)
            self._signed.move_to_end(name)
            while len(self._signed) > SIGNED_URL_CACHE_SIZE:
                self._signed.popitem(last=False)
        return Redirect(url, expires // 2)

    # -- writing -----------------------------------------------------------------------

    def write_stream(self, name: str, chunks: Iterable[bytes], *, max_bytes: int) -> int:
        local = self.path(name)
        local.parent.mkdir(parents=True, exist_ok=True)
        size = write_atomic(local, chunks, max_bytes=max_bytes)
        try:
            self.write_file(name, local)
        except BaseException:
            self.forget(name)
            raise
        return size

    def write_file(self, name: str, source: Path) -> int:
        """Upload ``source`` as ``name``, with its content type and caching (PutObject is atomic)."""
        with open(source, "rb") as fh, self._errors("store", name):
            size = os.fstat(fh.fileno()).st_size
            self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=fh,
                                   ContentType=content_type(name), CacheControl=cache_control(name))
        return size

    def delete(self, name: str) -> None:
        with self._errors("delete", name):
            self.client.delete_object(Bucket=self.bucket, Key=self.key(name))
        self.forget(name)

    def delete_many(self, names: Iterable[str]) -> None:
        """One DeleteObjects request per thousand names."""
        batch = [self.key(name) for name in names]
        for start in range(0, len(batch), DELETE_BATCH):
            keys = batch[start:start + DELETE_BATCH]
            with self._errors("delete", f"{len(keys)} objects from " + keys[0][len(self.settings.prefix):]):
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})
            errors = answer.get("Errors", [])
            if errors:
                first = errors[0]
                raise StorageUnavailable(f"object store refused to delete {len(errors)} objects, e.g. "
                                         f"{first.get('Key')}: {first.get('Code')}")
        for key in batch:
            self.forget(key[len(self.settings.prefix):])

    # -- the work folder ---------------------------------------------------------------

    def path(self, name: str) -> Path:
        full = (self.root / check_name(name)).resolve()
        if self.root.resolve() not in full.parents:  # a symlink out of the folder
            raise ValueError(f"path escapes the work folder: {name!r}")
        return full

    def for_claim(self, token: str) -> S3Storage:
        return S3Storage(self.work_root.parent, self.settings, self.client, workspace=token)

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def fetch(self, name: str) -> Path:
        local = self.path(name)
        if local.exists():  # written whole by rename, and an object never changes
            return local
        body = self.open(name)[0]
        try:
            local.parent.mkdir(parents=True, exist_ok=True)
            with self._errors("download", name):
                write_atomic(local, iter(lambda: body.read(CHUNK_BYTES), b""), max_bytes=MAX_ORIGINAL_BYTES)
        finally:
            body.close()
        return local

    def publish(self, names: Sequence[str]) -> None:
        """Upload the set (several at once), then drop the working copies, also on failure: a
        failed set is encoded again by the step's next attempt."""
        try:
            with ThreadPoolExecutor(max_workers=max(1, min(UPLOAD_THREADS, len(names)))) as pool:
                for _ in pool.map(lambda name: self.write_file(name, self.path(name)), names):
                    pass
        finally:
            for name in names:
                self.forget(name)

    def forget(self, name: str) -> None:
        """Drop this work folder's copy of ``name`` (the store keeps the object)."""
        with contextlib.suppress(OSError, ValueError):
            self.path(name).unlink(missing_ok=True)

    def sweep_working_copies(self, *, older_than: float) -> int:
        cutoff = time.time() - older_than
        swept = 0
        for folder in self.work_root.iterdir() if self.work_root.is_dir() else ():
            if folder == self.root or not folder.is_dir():
                continue
            with contextlib.suppress(OSError):
                newest = max((p.stat().st_mtime for p in folder.rglob("*")), default=folder.stat().st_mtime)
                if max(newest, folder.stat().st_mtime) < cutoff:
                    shutil.rmtree(folder)
                    swept += 1
        if swept:
            log.info("storage: swept %s abandoned work folders from %s", swept, self.work_root)
        return swept

    def health(self) -> str:
        local = disk_health(self.root)
        if local != "ok":
            return f"{local} (working copies under {self.root})"
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as e:
            return f"error: bucket {self.bucket}: {e.response.get('Error', {}).get('Code', '?')}"
        except BotoCoreError as e:
            return f"error: object store unreachable ({type(e).__name__})"
        return "ok"
