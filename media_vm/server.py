"""The media VM's HTTP side: ``/serve/{media_id}``, ``/health``, ``/metrics``.

A plain WSGI app (run under gunicorn by ``python -m media_vm serve``). Variants on local
disk are streamed with the server's ``wsgi.file_wrapper`` (sendfile under gunicorn) or
handed to nginx (``X-Accel-Redirect``); variants in an object store are streamed from it
or answered with a redirect to a signed URL (``MEDIA_S3_SERVE``). Never read into memory
whole. It imports no pyvips: serving needs only the media DB and the store.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from calendar import timegm
from collections import OrderedDict
from collections.abc import Callable, Iterable
from email.utils import formatdate
from typing import Any

from media_vm.checklist import JobStatus
from media_vm.config import Settings
from media_vm.db import Repository, make_engine, migrate, ping
from media_vm.exceptions import StorageUnavailable
from media_vm.similarity import SIMILAR_PATH, similar_response
from media_vm.storage import IMMUTABLE, make_storage
from shared.naming import is_media_id
from shared.sizes import DEFAULT_SIZE, NEGOTIATION_ORDER, SIZES_BY_NAME, ImageFormat, nearest_size

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
#: Finished images whose variant list a server process keeps in memory (a few KB each).
VARIANT_CACHE_SIZE = 20_000
FORMAT_ALIASES = {"jpg": "jpeg", "auto": "auto", "": "auto"} | {f.value: f.value for f in ImageFormat}
_SERVE = re.compile(r"^/serve/(?P<media_id>[^/]+)/?$")
_ACCEPT_ITEM = re.compile(r"^\s*([^;\s]+)\s*(?:;(.*))?$")


def accepted_types(header: str) -> set[str]:
    """Media types the client accepts with q > 0 (wildcards kept as given)."""
    accepted = set()
    for part in header.split(","):
        m = _ACCEPT_ITEM.match(part)
        if not m:
            continue
        q = 1.0
        for param in (m.group(2) or "").split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            accepted.add(m.group(1).lower())
    return accepted


def negotiate(available: set[str], accept: str, *, needs_alpha: bool) -> str | None:
    """AVIF, then WebP, then JPEG (PNG instead of JPEG when transparency must survive).

    A browser names AVIF and WebP explicitly when it decodes them; ``*/*`` alone only
    promises the old formats.
    """
    accepted = accepted_types(accept) if accept else {"*/*"}
    for fmt in NEGOTIATION_ORDER:
        if fmt is ImageFormat.JPEG:
            break
        if fmt.value in available and fmt.mime_type in accepted:
            return fmt.value
    fallback = ("png", "jpeg") if needs_alpha else ("jpeg", "png")
    for name in fallback:
        if name in available:
            return name
    return None


class MediaServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        migrate(self.engine)
        self.repo = Repository(self.engine)
        self.storage = make_storage(settings)
        self._cache: OrderedDict[str, tuple[list[Any], bool]] = OrderedDict()
        self._cache_lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return self.json(start_response, 405, {"message": "method not allowed"}, [("Allow", "GET, HEAD")])
        try:
            if path == "/health":
                return self.health(environ, start_response)
            if path == "/metrics":
                return self.metrics(environ, start_response)
            m = _SERVE.match(path)
            if m:
                return self.serve(environ, start_response, m.group("media_id"))
            m = SIMILAR_PATH.match(path)
            if m:
                return self.json(start_response, *similar_response(self.repo, m.group("media_id"),
                                                                   environ.get("QUERY_STRING", "")))
            return self.json(start_response, 404, {"message": "not found"})
        except Exception:  # noqa: BLE001 - a JSON 500, never a stack trace to the client
            log.exception("media server: error on %s", path)
            return self.json(start_response, 500, {"message": "internal error"})

    # -- responses -------------------------------------------------------------------

    @staticmethod
    def json(start_response: StartResponse, status: int, body: dict[str, Any],
             headers: list[tuple[str, str]] | None = None) -> list[bytes]:
        data = json.dumps(body).encode()
        reason = {200: "OK", 304: "Not Modified", 400: "Bad Request", 404: "Not Found",
                  405: "Method Not Allowed", 500: "Internal Server Error", 503: "Service Unavailable"}
        start_response(f"{status} {reason.get(status, '')}", [
            ("Content-Type", "application/json"), ("Content-Length", str(len(data))),
            ("Cache-Control", "no-store"), *(headers or []),
        ])
        return [data]

    def serve(self, environ: dict[str, Any], start_response: StartResponse, media_id: str) -> Iterable[bytes]:
        from urllib.parse import parse_qs

        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        size = query.get("size", DEFAULT_SIZE)
        fmt = FORMAT_ALIASES.get(query.get("format", "auto").lower())
        bg = query.get("bg", "original")
        if size not in SIZES_BY_NAME:
            return self.json(start_response, 400, {"message": f"unknown size {size!r}",
                                                   "extra": {"sizes": list(SIZES_BY_NAME)}})
        if fmt is None:
            return self.json(start_response, 400, {"message": f"unknown format {query.get('format')!r}"})
        if bg not in ("original", "removed"):
            return self.json(start_response, 400, {"message": f"unknown bg {bg!r}"})
        if not is_media_id(media_id):
            return self.json(start_response, 404, {"message": "no such image"})
        all_variants, has_alpha = self.lookup(media_id)
        variants = [v for v in all_variants if v["bg"] == bg]
        if not variants:
            return self.json(start_response, 404, {"message": "no such image" if bg == "original"
                                                   else "no background-removed variant for this image"})
        chosen_size = nearest_size(size, {v["size"] for v in variants})
        of_size = {v["format"]: v for v in variants if v["size"] == chosen_size}
        if fmt == "auto":
            needs_alpha = bg == "removed" or has_alpha
            fmt = negotiate(set(of_size), environ.get("HTTP_ACCEPT", ""), needs_alpha=needs_alpha)
        variant = of_size.get(fmt or "")
        if variant is None:
            return self.json(start_response, 404, {"message": f"no {fmt} variant of this image"})
        return self.send_file(environ, start_response, variant)

    def lookup(self, media_id: str) -> tuple[list[Any], bool]:
        """The variants of an image and whether it has alpha. A finished image's set never
        changes (re-processing makes a new media id), so it is kept in memory after the first
        request; an unfinished or unknown one is asked of the media DB every time."""
        with self._cache_lock:
            hit = self._cache.get(media_id)
            if hit is not None:
                self._cache.move_to_end(media_id)
                return hit
        row = self.repo.by_media_id(media_id)
        found = (self.repo.variants(media_id) if row else [], bool(row and row["has_alpha"]))
        if row is not None and row["status"] == JobStatus.DONE.value and found[0]:
            with self._cache_lock:
                self._cache[media_id] = found
                while len(self._cache) > VARIANT_CACHE_SIZE:
                    self._cache.popitem(last=False)
        return found

    def send_file(self, environ: dict[str, Any], start_response: StartResponse, variant: Any) -> Iterable[bytes]:
        etag = f'"{variant["media_id"]}-{variant["size"]}-{variant["bg"]}-{variant["bytes"]}.{variant["format"]}"'
        headers = [
            ("Cache-Control", IMMUTABLE), ("ETag", etag), ("Vary", "Accept"),
            ("Last-Modified", formatdate(timegm(variant["created_at"].timetuple()), usegmt=True)),
        ]
        inm = environ.get("HTTP_IF_NONE_MATCH", "")
        if inm and (inm.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in inm.split(",")]):
            start_response("304 Not Modified", headers)
            return []
        if self.settings.accel_redirect_prefix:
            # behind nginx: it sends the file itself from its internal location (deploy/nginx)
            headers += [("Content-Type", ImageFormat(variant["format"]).mime_type),
                        ("X-Accel-Redirect", self.settings.accel_redirect_prefix + variant["path"]),
                        ("X-Content-Type-Options", "nosniff"), ("Content-Length", "0")]
            start_response("200 OK", headers)
            return []
        try:
            redirect = self.storage.redirect(variant["path"])
        except StorageUnavailable as e:
            log.error("media server: %s", e)
            return self.json(start_response, 503, {"message": "storage unavailable"})
        if redirect is not None:
            # the store sends the bytes (with the immutable Cache-Control it was uploaded with);
            # only the browser may keep the redirect: a shared cache could hand it out expired
            start_response("302 Found", [
                ("Location", redirect.url), ("Cache-Control", f"private, max-age={redirect.max_age}"),
                ("Vary", "Accept"), ("Content-Length", "0"),
            ])
            return []
        head = environ.get("REQUEST_METHOD") == "HEAD"
        try:
            if head:
                fh, length = None, self.storage.size(variant["path"])
            else:
                fh, length = self.storage.open(variant["path"])
        except FileNotFoundError:
            log.error("media server: variant %s is in the DB but not in the store", variant["path"])
            return self.json(start_response, 404, {"message": "variant file missing"})
        except StorageUnavailable as e:
            log.error("media server: %s", e)
            return self.json(start_response, 503, {"message": "storage unavailable"})
        headers += [("Content-Type", ImageFormat(variant["format"]).mime_type), ("Content-Length", str(length)),
                    ("X-Content-Type-Options", "nosniff")]
        start_response("200 OK", headers)
        if fh is None:
            return []
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is not None and not self.storage.remote:
            return wrapper(fh, 256 * 1024)  # type: ignore[no-any-return]
        return _iter_file(fh)

    def health(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        checks = {"database": "ok", "storage": "ok"}
        try:
            ping(self.engine)
        except Exception as e:  # noqa: BLE001
            checks["database"] = f"error: {type(e).__name__}"
        checks["storage"] = self.storage.health()
        ok = all(v == "ok" for v in checks.values())
        return self.json(start_response, 200 if ok else 503, {"status": "ok" if ok else "unhealthy", **checks})

    def metrics(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        stats = self.repo.stats()
        lines = ["# HELP media_vm_jobs Images in the media DB by state.", "# TYPE media_vm_jobs gauge"]
        for state in ("queued", "processing", "done", "failed"):
            lines.append(f'media_vm_jobs{{state="{state}"}} {stats["jobs"].get(state, 0)}')
        lines += ["# HELP media_vm_step_failures Checklist steps whose last attempt failed.",
                  "# TYPE media_vm_step_failures gauge"]
        lines += [f'media_vm_step_failures{{step="{k}"}} {v}' for k, v in sorted(stats["step_failures"].items())]
        lines += ["# HELP media_vm_step_attempts_total Attempts made per checklist step.",
                  "# TYPE media_vm_step_attempts_total counter"]
        lines += [f'media_vm_step_attempts_total{{step="{k}"}} {v}' for k, v in sorted(stats["step_attempts"].items())]
        retries, buckets = self.repo.retries_and_buckets()
        lines += ["# HELP media_vm_step_retries_total Attempts beyond the first, per checklist step.",
                  "# TYPE media_vm_step_retries_total counter"]
        lines += [f'media_vm_step_retries_total{{step="{k}"}} {v}' for k, v in sorted(retries.items())]
        lines += ["# HELP media_vm_processing_seconds Seconds from registration to done, per image.",
                  "# TYPE media_vm_processing_seconds histogram"]
        lines += [f'media_vm_processing_seconds_bucket{{le="{float(le)}"}} {n}' for le, n in buckets]
        lines += [f'media_vm_processing_seconds_bucket{{le="+Inf"}} {stats["processing_count"]}',
                  f"media_vm_processing_seconds_count {stats['processing_count']}",
                  f"media_vm_processing_seconds_sum {stats['processing_seconds_sum']:.3f}",
                  "# HELP media_vm_queue_depth_seen Pending images the main API listed at a worker's last poll.",
                  "# TYPE media_vm_queue_depth_seen gauge"]
        for w in stats["workers"]:
            lines.append(f'media_vm_queue_depth_seen{{worker="{w["worker_id"]}"}} {w["queue_depth"]}')
        lines += ["# HELP media_vm_worker_last_seen_timestamp Last heartbeat of each worker (unix time).",
                  "# TYPE media_vm_worker_last_seen_timestamp gauge"]
        for w in stats["workers"]:
            lines.append(f'media_vm_worker_last_seen_timestamp{{worker="{w["worker_id"]}"}} '
                         f'{timegm(w["last_seen"].timetuple())}')
        data = ("\n".join(lines) + "\n").encode()
        start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4; charset=utf-8"),
                                  ("Content-Length", str(len(data)))])
        return [data]


def _iter_file(fh: Any) -> Iterable[bytes]:
    try:
        while chunk := fh.read(256 * 1024):
            yield chunk
    finally:
        fh.close()


def create_app() -> MediaServer:
    """Entry point for gunicorn: ``media_vm.server:create_app()``."""
    return MediaServer(Settings.from_env())
