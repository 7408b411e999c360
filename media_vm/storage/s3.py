"""``MEDIA_STORAGE_BACKEND=s3``: ``bulk/`` and ``library/`` in an S3-compatible bucket.

Objects are named ``{MEDIA_S3_PREFIX}{relpath}``, the relative names the local backend uses
and the media DB records, so a deployment can move from disk to bucket by copying the tree.
Locally, ``MEDIA_STORAGE_ROOT/s3-work/`` is this host's scratch space (a tree of files kept
there by the local backend is never touched), one folder per claim so that no two workers,
threads or a worker that lost its lease ever share a working file:

- an original is downloaded there (atomically, size-capped), then uploaded; the local copy
  stays for the steps that read it;
- variants are encoded there, uploaded (several at once), then deleted;
- a step that needs an original another host retrieved downloads it there first;
- the folder is deleted when the worker lets go of the image; what a killed worker left is
  swept by the healing cycle.

So any worker on any host can take over any image at any step, and any VM's ``/serve``
answers for every image: it streams the object, or redirects to a signed URL.

Failures of the store (unreachable, credentials refused, 5xx after botocore's retries) are
raised as :class:`StorageUnavailable`, an ``OSError``: the worker keeps the upload and
retries with a capped backoff, as for a full disk. A missing object is ``FileNotFoundError``.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from media_vm.config import S3Settings
from media_vm.exceptions import StorageUnavailable
from media_vm.storage.local import IMMUTABLE, ORIGINAL_EXTENSIONS, LocalStorage
from shared.sizes import ImageFormat

log = logging.getLogger(__name__)

#: Objects uploaded at once when a set of variants is published.
UPLOAD_THREADS = 8
CHUNK_BYTES = 256 * 1024
#: A downloaded original larger than this is refused (the main API caps uploads far lower).
MAX_FETCH_BYTES = 256 * 1024 * 1024
CONTENT_TYPES = {ext: mime for mime, ext in ORIGINAL_EXTENSIONS.items()} | {
    fmt.extension: fmt.mime_type for fmt in ImageFormat
}
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


#: Under MEDIA_STORAGE_ROOT: the work folders, one per claim (plus "shared" for other uses).
WORK_DIR = "s3-work"


class S3Storage(LocalStorage):
    remote = True

    def __init__(self, root: Path, settings: S3Settings, client: Any = None, *, workspace: str = "shared") -> None:
        if not workspace.isalnum():
            raise ValueError(f"not a work folder name: {workspace!r}")
        self.work_root = Path(root) / WORK_DIR
        super().__init__(self.work_root / workspace)
        self.settings = settings
        self.bucket = settings.bucket
        self.client = client if client is not None else make_client(settings)

    def for_claim(self, token: str) -> S3Storage:
        return S3Storage(self.work_root.parent, self.settings, self.client, workspace=token)

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __repr__(self) -> str:
        where = self.settings.endpoint_url or "aws"
        return f"S3Storage(s3://{self.bucket}/{self.settings.prefix} at {where}, scratch {str(self.root)!r})"

    def key(self, relpath: str) -> str:
        """``MEDIA_S3_PREFIX`` + the relative name, which must be plain: no ``..``, ``.``, empty
        or absolute parts, no backslashes (a store may normalise them out of the prefix)."""
        parts = relpath.split("/")
        if "\\" in relpath or any(part in ("", ".", "..") for part in parts) or parts[0] not in ("bulk", "library"):
            raise ValueError(f"not a storage name: {relpath!r}")
        return self.settings.prefix + relpath

    @contextlib.contextmanager
    def _errors(self, action: str, relpath: str) -> Iterator[None]:
        name = self.settings.prefix + relpath
        try:
            yield
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                raise FileNotFoundError(f"not in bucket {self.bucket}: {name}") from e
            raise StorageUnavailable(f"object store refused to {action} {name}: {code}") from e
        except BotoCoreError as e:
            raise StorageUnavailable(f"object store could not {action} {name}: {e}") from e

    # -- writing -----------------------------------------------------------------------

    def write_stream(self, relpath: str, chunks: Iterable[bytes], *, max_bytes: int) -> int:
        size = super().write_stream(relpath, chunks, max_bytes=max_bytes)
        try:
            self._upload(relpath)
        except BaseException:
            self.forget(relpath)
            raise
        return size

    def publish(self, relpaths: Sequence[str]) -> None:
        try:
            with ThreadPoolExecutor(max_workers=max(1, min(UPLOAD_THREADS, len(relpaths)))) as pool:
                for _ in pool.map(self._upload, relpaths):
                    pass
        finally:
            for relpath in relpaths:  # a failed set is encoded again by the step's next attempt
                self.forget(relpath)

    def _upload(self, relpath: str) -> None:
        self.upload_file(relpath, self.path(relpath))

    def upload_file(self, relpath: str, source: Path) -> None:
        """Store the file at ``source`` as ``relpath``, with its content type and caching."""
        ext = relpath.rsplit(".", 1)[-1]
        public = relpath.startswith("library/")
        with open(source, "rb") as fh, self._errors("store", relpath):
            self.client.put_object(
                Bucket=self.bucket, Key=self.key(relpath), Body=fh,
                ContentType=CONTENT_TYPES.get(ext, "application/octet-stream"),
                CacheControl=IMMUTABLE if public else "private, no-store",
            )

    # -- reading -----------------------------------------------------------------------

    def fetch(self, relpath: str) -> Path:
        local = self.path(relpath)
        if local.exists():  # written whole by rename, and an object never changes
            return local
        body = self.open_stored(relpath)[0]
        try:
            with self._errors("download", relpath):
                LocalStorage.write_stream(self, relpath, iter(lambda: body.read(CHUNK_BYTES), b""),
                                          max_bytes=MAX_FETCH_BYTES)
        finally:
            body.close()
        return local

    def forget(self, relpath: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.path(relpath).unlink(missing_ok=True)

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

    def stored_keys(self) -> set[str]:
        """The relative names of every object under the prefix (one listing, paged)."""
        names: set[str] = set()
        with self._errors("list", "*"):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                             Prefix=self.settings.prefix):
                names.update(o["Key"][len(self.settings.prefix):] for o in page.get("Contents", []))
        return names

    def open_stored(self, relpath: str) -> tuple[IO[bytes], int]:
        with self._errors("read", relpath):
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(relpath))
        return answer["Body"], int(answer["ContentLength"])

    def stored_size(self, relpath: str) -> int:
        # a one-byte GET, not a HEAD: a HEAD's error has no body, so a missing bucket (the
        # store's fault) would read as a missing object
        with self._errors("read", relpath):
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(relpath), Range="bytes=0-0")
        answer["Body"].close()
        return int(str(answer["ContentRange"]).rsplit("/", 1)[1])

    def signed_url(self, relpath: str) -> str:
        """A URL anyone may GET the object at for ``MEDIA_S3_URL_EXPIRES`` seconds."""
        with self._errors("sign", relpath):
            return str(self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": self.key(relpath)},
                ExpiresIn=self.settings.url_expires,
            ))

    def health(self) -> str:
        local = super().health()
        if local != "ok":
            return f"{local} (working copies under {self.root})"
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as e:
            return f"error: bucket {self.bucket}: {e.response.get('Error', {}).get('Code', '?')}"
        except BotoCoreError as e:
            return f"error: object store unreachable ({type(e).__name__})"
        return "ok"
