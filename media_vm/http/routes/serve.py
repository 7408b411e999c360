"""``GET /serve/{media_id}?size=&format=&bg=``: a variant of an image.

How the bytes go out is the store's to say, not this module's:

- ``MEDIA_VM_ACCEL_REDIRECT`` set (behind nginx, local files): headers only, and
  ``X-Accel-Redirect`` to the file's storage name; nginx sends it;
- the store offers a redirect (:meth:`Storage.redirect`, e.g. a bucket with
  ``MEDIA_S3_SERVE=redirect``): 302 to its URL;
- else the stream :meth:`Storage.open` gives: a file on this host's disk goes to the WSGI
  server's ``wsgi.file_wrapper`` (sendfile under gunicorn), any other stream is read in
  chunks. Never read into memory whole.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from calendar import timegm
from collections import OrderedDict
from collections.abc import Iterator
from email.utils import formatdate
from typing import IO, Any

from media_vm.checklist import JobStatus
from media_vm.config import Settings
from media_vm.db import Repository
from media_vm.db.deletions import DELETED_REASON
from media_vm.exceptions import StorageUnavailable
from media_vm.http.negotiation import FORMAT_ALIASES, negotiate
from media_vm.http.wsgi import HTTPError, Request, Response
from media_vm.storage import IMMUTABLE, Storage
from shared.naming import is_media_id
from shared.sizes import DEFAULT_SIZE, SIZE_NAMES, ImageFormat, nearest_size

log = logging.getLogger(__name__)

#: Finished images whose variant list a server process keeps in memory (a few KB each).
VARIANT_CACHE_SIZE = 20_000
#: Seconds a finished image's variant list is kept before the media DB is asked again: a
#: deleted image (``media_vm.worker.deletions``) stops being served within this time, well inside
#: the 60 s the uploads issue allows with the worker's ``DELETIONS_POLL_SECONDS``. (Until then
#: its files are already gone, so a stream answers 404 anyway; a redirect or X-Accel does not
#: look.) One primary-key query per image per 30 s is nothing next to sending the bytes.
VARIANT_CACHE_TTL_SECONDS = 30.0
#: Bytes read from a stream at a time.
CHUNK_BYTES = 256 * 1024
BACKGROUNDS = ("original", "removed")
#: Cache-Control of a stand-in: the size asked for does not exist (yet: the thumbnail is made
#: first, the other sizes follow within seconds), so the nearest one answers, for a short while.
STAND_IN = "public, max-age=5"


class VariantCache:
    """The variants of an image and whether it has alpha, from the media DB. A finished
    image's set never changes (re-processing makes a new media id), so it is kept in memory
    after the first request, for ``ttl`` seconds (the image may be deleted); an unfinished or
    unknown one is asked of the media DB every time."""

    def __init__(self, repo: Repository, size: int = VARIANT_CACHE_SIZE,
                 ttl: float = VARIANT_CACHE_TTL_SECONDS) -> None:
        self.repo = repo
        self.size = size
        self.ttl = ttl
        self._cache: OrderedDict[str, tuple[float, tuple[list[Any], bool]]] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, media_id: str) -> tuple[list[Any], bool]:
        """``(variant rows, has alpha)``; ``([], False)`` for an unknown image."""
        with self._lock:
            hit = self._cache.get(media_id)
            if hit is not None and time.monotonic() < hit[0]:
                self._cache.move_to_end(media_id)
                return hit[1]
        row = self.repo.by_media_id(media_id)
        found = (self.repo.variants(media_id) if row else [], bool(row and row["has_alpha"]))
        if row is not None and row["status"] == JobStatus.DONE.value and found[0]:
            with self._lock:
                self._cache[media_id] = (time.monotonic() + self.ttl, found)
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        return found

    def forget(self, media_id: str) -> None:
        """Drop ``media_id`` from memory: its next lookup asks the media DB."""
        with self._lock:
            self._cache.pop(media_id, None)


class ServeRoute:
    """Answers ``/serve/{media_id}``: 200 with the variant (or 302, or X-Accel), 304 for a
    matching ``If-None-Match``; 400 for an unknown size, format or bg; 404 for an unknown
    image, a variant it lacks, or a file the media DB names but the store lacks; 503 when
    the store is unreachable."""

    def __init__(self, settings: Settings, repo: Repository, storage: Storage) -> None:
        self.settings = settings
        self.repo = repo
        self.storage = storage
        self.variants = VariantCache(repo)

    def __call__(self, request: Request) -> Response:
        return self.send(request, self.choose(request, request.params["media_id"]))

    def choose(self, request: Request, media_id: str) -> Any:
        """The variant row that answers the request, with ``stand_in`` True when the size asked
        for does not exist and the nearest one answers instead; ``HTTPError`` when none does."""
        size = request.query.get("size", DEFAULT_SIZE)
        fmt = FORMAT_ALIASES.get(request.query.get("format", "auto").lower())
        bg = request.query.get("bg", "original")
        if size not in SIZE_NAMES:
            raise HTTPError(400, f"unknown size {size!r}", {"sizes": list(SIZE_NAMES)})
        if fmt is None:
            raise HTTPError(400, f"unknown format {request.query.get('format')!r}",
                            {"formats": sorted(k for k in FORMAT_ALIASES if k)})
        if bg not in BACKGROUNDS:
            raise HTTPError(400, f"unknown bg {bg!r}", {"bg": list(BACKGROUNDS)})
        if not is_media_id(media_id):
            raise HTTPError(404, "no such image")
        all_variants, has_alpha = self.variants.lookup(media_id)
        variants = [v for v in all_variants if v["bg"] == bg]
        if not variants:
            raise HTTPError(404, "no such image" if bg == "original"
                            else "no background-removed variant for this image")
        chosen_size = nearest_size(size, {v["size"] for v in variants})
        if chosen_size is None:  # a preset output the image was not made with (no other preset's box)
            raise HTTPError(404, f"this image has no {size!r} output (its upload named no tool with that preset)")
        of_size = {v["format"]: v for v in variants if v["size"] == chosen_size}
        if fmt == "auto":
            fmt = negotiate(set(of_size), request.header("Accept"), needs_alpha=bg == "removed" or has_alpha)
        variant = of_size.get(fmt or "")
        if variant is None:
            raise HTTPError(404, f"no {fmt} variant of this image")
        return {**variant, "stand_in": chosen_size != size}

    def missing(self, variant: Any) -> HTTPError:
        """The 404 for a variant whose file is gone. An image being deleted (held, or its rows
        already erased while the cache still had them) is no error: ``no such image``, and the
        cached rows are dropped. Otherwise the media DB names a file the store lacks: logged as
        an error (the healer's business), ``variant file missing``."""
        media_id = variant["media_id"]
        self.variants.forget(media_id)
        row = self.repo.by_media_id(media_id)
        if row is None or row["failure_reason"] == DELETED_REASON:
            log.info("media server: %s is being deleted; its %s is gone", media_id, variant["path"])
            return HTTPError(404, "no such image")
        log.error("media server: variant %s is in the DB but not in the store", variant["path"])
        return HTTPError(404, "variant file missing")

    def send(self, request: Request, variant: Any) -> Response:
        """The variant's bytes, or where to get them (see the module docstring). A stand-in
        (another size than the one asked for, see :meth:`choose`) is cached only briefly
        (:data:`STAND_IN`): the real size may come a few seconds later."""
        name = variant["path"]
        etag = f'"{variant["media_id"]}-{variant["size"]}-{variant["bg"]}-{variant["bytes"]}.{variant["format"]}"'
        headers = [
            ("Cache-Control", STAND_IN if variant.get("stand_in") else IMMUTABLE), ("ETag", etag), ("Vary", "Accept"),
            ("Last-Modified", formatdate(timegm(variant["created_at"].timetuple()), usegmt=True)),
        ]
        inm = request.header("If-None-Match")
        if inm and (inm.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in inm.split(",")]):
            return Response(304, headers)
        content = [("Content-Type", ImageFormat(variant["format"]).mime_type), ("X-Content-Type-Options", "nosniff")]
        if self.settings.accel_redirect_prefix:
            # behind nginx: it sends the file itself from its internal location (deploy/nginx)
            return Response(200, headers + content + [("X-Accel-Redirect", self.settings.accel_redirect_prefix + name),
                                                       ("Content-Length", "0")])
        try:
            redirect = self.storage.redirect(name)
            if redirect is not None:
                # the store sends the bytes, with the immutable Cache-Control it keeps them
                # with; only the browser may keep the redirect (Storage.redirect says why)
                return Response(302, [("Location", redirect.url),
                                      ("Cache-Control", f"private, max-age={redirect.max_age}"),
                                      ("Vary", "Accept"), ("Content-Length", "0")])
            if request.method == "HEAD":
                stream, length = None, self.storage.size(name)
            else:
                stream, length = self.storage.open(name)
        except FileNotFoundError as e:
            raise self.missing(variant) from e
        except StorageUnavailable as e:
            log.error("media server: %s", e)
            raise HTTPError(503, "storage unavailable") from e
        headers += content + [("Content-Length", str(length))]
        if stream is None:
            return Response(200, headers)
        wrapper = request.environ.get("wsgi.file_wrapper")
        if wrapper is not None and is_disk_file(stream):
            return Response(200, headers, wrapper(stream, CHUNK_BYTES))
        return Response(200, headers, iter_stream(stream))


def is_disk_file(stream: IO[bytes]) -> bool:
    """True for a file opened on this host's disk, which sendfile may send (not, say, a socket
    an object store's answer arrives on)."""
    return isinstance(getattr(stream, "raw", stream), io.FileIO)


def iter_stream(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream's bytes in chunks; closes it at the end, or when the server stops early."""
    try:
        while chunk := stream.read(CHUNK_BYTES):
            yield chunk
    finally:
        stream.close()
