"""``python -m media_vm redis-worker``: the Redis-queue seed's jobs, made by this pipeline.

For teams that already push the seed's jobs. Nothing of the main API or the media DB is
involved: a job names a file and a folder on this host, and its outcome goes back to Redis.

Lists (the seed's names; ``--queue-prefix`` puts a prefix before all four):

- ``image:jobs``: jobs in, taken with ``BRPOP`` (producers ``LPUSH``: first in, first out);
- ``image:retry``: failed jobs with ``retryCount`` + 1, taken again by this worker (after
  ``image:jobs``: ``BRPOP`` looks at the lists in that order) until ``--max-retries``, each no
  sooner than its ``retryAt`` (milliseconds since the epoch, like ``timestamp``): the n-th retry
  waits ``--retry-delay`` x 2^(n-1) seconds (1, 2, 4 s by default; the worker's own
  ``media_vm.worker.retry.Retry``, uncapped). A retry taken before it is
  due goes back to the list and the worker waits on ``image:jobs`` alone meanwhile, so new jobs
  are not held up; one without ``retryAt`` (pushed by another tool) is due at once;
- ``image:done``: each finished job, with ``outputs`` (``{operation: path}``) and ``completedAt``;
- ``image:failed``: a job that failed ``--max-retries`` retries (with ``reason``, the last
  error), and at once a malformed one or one whose paths leave the root (``reason`` says why;
  a payload that is not a JSON object is kept whole as ``raw``).

A job is the seed's JSON object::

    {"jobId": "a1", "inputPath": "in/a1.jpg", "outputDir": "out", "operations": ["thumbnail", "blur"],
     "timestamp": 1767225600000, "retryCount": 0}

``jobId``: 1-128 of ``A-Z a-z 0-9 . _ -``, not starting with a dot (it names files);
``operations``: a non-empty list of ``thumbnail``, ``blur``, ``low-quality``; ``retryCount``:
an integer >= 0 (0 when absent); ``timestamp``: kept as sent. Each operation writes
``<outputDir>/<jobId>_<operation>.webp`` (``outputDir`` made if missing).

Paths: relative ones are taken from the root (``--root``, default ``REDIS_WORKER_ROOT``);
``inputPath`` and ``outputDir``, once every symlink is resolved, must lie inside that root, or
the job is refused to ``image:failed`` (``/etc/passwd``, ``../x``, a symlink pointing out).
Inputs go through the uploads' own loader (``media_vm.imaging.loading``: the libvips loader
allow-list, ``MAX_IMAGE_PIXELS`` and the frame limit from the header before any decoding,
truncated data refused); outputs are written through ``media_vm.atomic.write_atomic``, so a
reader never sees half a file.

The operations (chosen here; the seed's README named the operations, not these numbers):

- ``thumbnail``: 300 x 300, **cover** (filled, then cropped around what libvips' attention
  ``smartcrop`` finds), the box of this platform's own ``thumbnail``: grids want equal
  squares, and a letterboxed ``inside`` thumbnail would waste a third of a landscape tile. A
  smaller original is never enlarged: the largest square at its own scale. WebP q80.
- ``blur``: fitted inside 1280 x 1280 (never enlarged), then a Gaussian blur of sigma 8 px
  (libvips ``gaussblur``, mask down to amplitude 0.2: 29 px wide, a radius of 14 px), alpha
  premultiplied around it. A blurred backdrop gains nothing from more pixels, and the blur of
  a 12 MP original would cost ten times as much. WebP q80.
- ``low-quality``: fitted inside 640 x 640 (a landscape photo becomes 640 px wide; never
  enlarged), WebP q30 (effort 4): a placeholder of a few KB for slow networks.

Every failure of a well-formed job (unreadable, truncated, refused by the loader, a disk
error) goes to ``image:retry`` as the seed did: a file still being written by its producer may
be whole on a later try. Outputs written before a failure stay (the retry replaces them).

Workers: ``--workers`` threads, each with its own ``BRPOP``; libvips runs its own threads
inside each. SIGTERM or SIGINT stops taking jobs; the jobs being made are finished and their
outcome pushed (warm shutdown), within ``BLOCK_SECONDS`` plus the longest job. A job is held
only in the worker's memory while it is made (as with the seed's ``BRPOP``): a worker killed
with SIGKILL loses the jobs it was making, not the others.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from media_vm import defaults
from media_vm.atomic import write_atomic
from media_vm.worker.retry import Retry
from media_vm.worker.shutdown import install_warm_shutdown
from shared.sizes import Fit, Size

log = logging.getLogger("media_vm.redis_worker")  # the name its log lines have always carried

#: The seed's lists.
JOBS, RETRY, DONE, FAILED = "image:jobs", "image:retry", "image:done", "image:failed"

#: Each operation's box (``Fit.CROP``: cover, then crop; ``Fit.INSIDE``: fit, aspect kept).
THUMBNAIL = Size("thumbnail", 300, 300, Fit.CROP)
BLUR = Size("blur", 1280, 1280, Fit.INSIDE)
LOW_QUALITY = Size("low-quality", 640, 640, Fit.INSIDE)
OPERATIONS: dict[str, Size] = {s.name: s for s in (THUMBNAIL, BLUR, LOW_QUALITY)}

BLUR_SIGMA = 8.0
"""Gaussian sigma of ``blur``, in pixels of the 1280 px image (mask radius 14 px)."""
LOW_QUALITY_WEBP_Q = 30
"""WebP quality of ``low-quality`` (thumbnail and blur use the platform's WebP q80)."""
BLOCK_SECONDS = 1.0
"""Longest a worker thread's ``BRPOP`` blocks: how soon it sees a stop."""
RETRY_DELAY_SECONDS = 1.0
"""The first retry's wait; each further retry waits twice as long (exponential backoff)."""

_JOB_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")


class MalformedJob(ValueError):
    """The job cannot be run as sent (not JSON, a field missing or wrong, a path outside the
    root): it goes to ``image:failed`` at once, with this message as ``reason``."""


@dataclass(frozen=True)
class Queues:
    """The four list names, with an optional prefix (tests, or several deployments on one Redis)."""

    jobs: str = JOBS
    retry: str = RETRY
    done: str = DONE
    failed: str = FAILED

    @classmethod
    def prefixed(cls, prefix: str) -> Queues:
        return cls(*(prefix + name for name in (JOBS, RETRY, DONE, FAILED)))


@dataclass(frozen=True)
class Job:
    """A well-formed job, its paths resolved inside the root; ``fields`` is the JSON as sent."""

    job_id: str
    input_path: Path
    output_dir: Path
    operations: tuple[str, ...]
    retry_count: int
    fields: dict[str, Any]


def inside_root(root: Path, value: str, what: str) -> Path:
    """``value`` (absolute, or relative to ``root``) with every symlink resolved; raises
    :class:`MalformedJob` unless that lies inside ``root`` (itself resolved)."""
    if "\x00" in value:
        raise MalformedJob(f"{what} contains a NUL byte")
    real_root = root.resolve()
    resolved = (real_root / value).resolve()
    if not resolved.is_relative_to(real_root):
        raise MalformedJob(f"{what} {value!r} is outside the root")
    return resolved


def parse_job(raw: bytes | str, root: Path) -> Job:
    """The job in ``raw`` (the seed's JSON), checked; raises :class:`MalformedJob`."""
    try:
        fields = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise MalformedJob(f"not JSON: {e}") from e
    if not isinstance(fields, dict):
        raise MalformedJob("a job is a JSON object")
    job_id = fields.get("jobId")
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        raise MalformedJob("jobId must be 1-128 of A-Z a-z 0-9 . _ - (not starting with a dot)")
    for name in ("inputPath", "outputDir"):
        if not isinstance(fields.get(name), str) or not fields[name]:
            raise MalformedJob(f"{name} must be a non-empty string")
    operations = fields.get("operations")
    if not isinstance(operations, list) or not operations:
        raise MalformedJob("operations must be a non-empty list")
    unknown = [op for op in operations if op not in OPERATIONS]
    if unknown:
        raise MalformedJob(f"unknown operations {unknown!r} (known: {', '.join(OPERATIONS)})")
    retry_count = fields.get("retryCount", 0)
    if isinstance(retry_count, bool) or not isinstance(retry_count, int) or retry_count < 0:
        raise MalformedJob("retryCount must be an integer >= 0")
    return Job(
        job_id=job_id,
        input_path=inside_root(root, fields["inputPath"], "inputPath"),
        output_dir=inside_root(root, fields["outputDir"], "outputDir"),
        operations=tuple(dict.fromkeys(operations)),
        retry_count=retry_count,
        fields=fields,
    )


def make_outputs(job: Job, root: Path, *, max_pixels: int = defaults.MAX_IMAGE_PIXELS) -> dict[str, str]:
    """Run ``job``'s operations: ``{operation: output path}``. Raises the loader's
    :class:`~media_vm.exceptions.ImageRejected` for an input it refuses,
    :class:`~media_vm.exceptions.ImageProcessingError` or ``OSError`` for other failures, and
    :class:`MalformedJob` if the output folder, once made, resolves outside the root."""
    import pyvips

    from media_vm.imaging.encoding import encode
    from media_vm.imaging.loading import decode, probe
    from media_vm.imaging.resizing import render_size
    from media_vm.imaging.sizing import decode_box
    from shared.sizes import ImageFormat

    info = probe(job.input_path, max_pixels=max_pixels)
    boxes = tuple(OPERATIONS[op] for op in job.operations)
    image = decode(info, fit=decode_box(info.width, info.height, boxes))
    job.output_dir.mkdir(parents=True, exist_ok=True)
    out_dir = inside_root(root, str(job.output_dir), "outputDir")  # again: made through a symlink?
    outputs: dict[str, str] = {}
    for op in job.operations:
        variant = render_size(image, OPERATIONS[op], (info.width, info.height))
        try:
            if op == BLUR.name:
                variant = _blurred(variant)
            data = (bytes(variant.webpsave_buffer(Q=LOW_QUALITY_WEBP_Q, effort=4, keep="none"))
                    if op == LOW_QUALITY.name else encode(variant, ImageFormat.WEBP))
        except pyvips.Error as e:
            from media_vm.exceptions import ImageProcessingError
            from media_vm.imaging.loading import error_detail

            raise ImageProcessingError(f"{op}: {error_detail(e)}") from e
        path = out_dir / f"{job.job_id}_{op}.webp"
        write_atomic(path, data)
        outputs[op] = str(path)
    return outputs


def _blurred(image: Any) -> Any:
    """``image`` blurred with :data:`BLUR_SIGMA`, alpha premultiplied around it (no dark halos)."""
    if image.hasalpha():
        out = image.premultiply().gaussblur(BLUR_SIGMA).unpremultiply()
        return out.cast("uchar").copy(interpretation=image.interpretation)
    return image.gaussblur(BLUR_SIGMA)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _epoch_ms() -> int:
    return int(time.time() * 1000)


def due_in(raw: bytes | str) -> float:
    """Seconds until the retry ``raw`` is due by its ``retryAt``; 0 when it is due, has none, or
    is not a job at all (:meth:`RedisWorker.handle` judges it then)."""
    try:
        retry_at = json.loads(raw).get("retryAt")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return 0.0
    if isinstance(retry_at, bool) or not isinstance(retry_at, int | float):
        return 0.0
    return max(0.0, (retry_at - _epoch_ms()) / 1000)


class RedisWorker:
    """Takes the seed's jobs from Redis and makes them, ``workers`` at a time.

    ``redis``: a redis-py client (thread-safe: each thread takes a connection of its pool);
    ``root``: the folder every path must lie in; ``max_retries``: retries of a failing job
    before it goes to ``image:failed``; ``retry_delay``: seconds before the first retry (doubled
    for each further one). :meth:`handle` runs one payload (tests call it); :meth:`work` is the
    loop. Raises ValueError for ``workers`` < 1, ``max_retries`` < 0, ``retry_delay`` < 0 or a
    root that is not a folder.
    """

    def __init__(self, redis: Any, *, root: Path, max_retries: int = 3, workers: int = 1,
                 queues: Queues | None = None, max_pixels: int = defaults.MAX_IMAGE_PIXELS,
                 block_seconds: float = BLOCK_SECONDS, retry_delay: float = RETRY_DELAY_SECONDS) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        if retry_delay < 0:
            raise ValueError("retry_delay must be 0 or more seconds")
        if not Path(root).is_dir():
            raise ValueError(f"the root {root} is not a folder")
        self.redis = redis
        self.root = Path(root).resolve()
        self.max_retries = max_retries
        #: the attempts of a job (its retries and the first) and the wait before each retry
        self.retry = Retry(max_attempts=max_retries + 1, base_seconds=retry_delay, cap_seconds=math.inf)
        self.workers = workers
        self.queues = queues or Queues()
        self.max_pixels = max_pixels
        self.block_seconds = block_seconds
        self.stop = threading.Event()
        self.counts = {"done": 0, "retry": 0, "failed": 0}
        self._counts_lock = threading.Lock()
        self._redis_down = False

    def handle(self, raw: bytes | str) -> str:
        """Run one payload taken from a list and push its outcome: returns ``"done"``,
        ``"retry"`` or ``"failed"``. Raises the redis-py error if the outcome cannot be pushed."""
        try:
            job = parse_job(raw, self.root)
        except MalformedJob as e:
            log.warning("redis-worker: job refused: %s", e)
            return self._push(self.queues.failed, {**_fields_or_raw(raw), "reason": str(e), "failedAt": _now()},
                              "failed")
        try:
            outputs = make_outputs(job, self.root, max_pixels=self.max_pixels)
        except MalformedJob as e:
            log.warning("redis-worker: job %s refused: %s", job.job_id, e)
            return self._push(self.queues.failed, {**job.fields, "reason": str(e), "failedAt": _now()}, "failed")
        except Exception as e:  # noqa: BLE001 - every failure of a well-formed job is retried, then failed
            from media_vm.exceptions import ImageProcessingError, ImageRejected

            detail = str(e) if isinstance(e, ImageRejected | ImageProcessingError) else f"{type(e).__name__}: {e}"
            if not isinstance(e, ImageRejected | ImageProcessingError | OSError):
                log.exception("redis-worker: job %s failed", job.job_id)
            attempt = job.retry_count + 1  # the try that failed: the first, or a retry
            if not self.retry.exhausted(attempt):
                log.warning("redis-worker: job %s failed (%s); retry %s of %s", job.job_id, detail,
                            attempt, self.max_retries)
                retry_at = _epoch_ms() + int(self.retry.get_interval(attempt) * 1000)
                return self._push(self.queues.retry, {**job.fields, "retryCount": job.retry_count + 1,
                                                      "retryAt": retry_at, "error": detail}, "retry")
            log.error("redis-worker: job %s failed after %s retries: %s", job.job_id, job.retry_count, detail)
            return self._push(self.queues.failed, {**job.fields, "reason": detail, "failedAt": _now()}, "failed")
        log.info("redis-worker: job %s done: %s", job.job_id, ", ".join(outputs))
        return self._push(self.queues.done, {**job.fields, "outputs": outputs, "completedAt": _now()}, "done")

    def _push(self, queue: str, payload: dict[str, Any], outcome: str) -> str:
        try:
            self.redis.lpush(queue, json.dumps(payload))
        except Exception:
            # the outcome is lost to Redis, not to the log: an operator can push it again
            log.error("redis-worker: could not push to %s: %s", queue, json.dumps(payload))
            raise
        with self._counts_lock:
            self.counts[outcome] += 1
        return outcome

    def _take(self, *, retries: bool = True, timeout: float | None = None) -> tuple[str, bytes] | None:
        """``(list, payload)`` from ``image:jobs``, else ``image:retry`` (``retries`` False: from
        ``image:jobs`` alone); None after ``timeout`` (default ``block_seconds``). A Redis error
        is logged once per outage and waited out."""
        keys = [self.queues.jobs, self.queues.retry] if retries else [self.queues.jobs]
        try:
            item = self.redis.brpop(keys, timeout=max(0.01, self.block_seconds if timeout is None else timeout))
        except Exception as e:  # noqa: BLE001 - Redis away: wait, then try again
            if not self._redis_down:
                self._redis_down = True
                log.warning("redis-worker: Redis unavailable (%s); trying again every 2 s", e)
            self.stop.wait(2.0)
            return None
        if self._redis_down:
            self._redis_down = False
            log.info("redis-worker: Redis is back")
        if item is None:
            return None
        key, raw = item
        return (key.decode() if isinstance(key, bytes) else key), raw

    def _put_back(self, raw: bytes) -> None:
        """A retry taken before it was due goes back to ``image:retry``, behind the others
        (``LPUSH``: ``BRPOP`` takes from the other end)."""
        try:
            self.redis.lpush(self.queues.retry, raw)
        except Exception:
            log.error("redis-worker: could not put a retry back on %s: %s", self.queues.retry,
                      raw.decode("utf-8", "replace"))
            raise

    def _loop(self, burst: bool) -> None:
        hold = 0.0  # > 0: a retry is not due yet; wait this long on image:jobs alone
        while not self.stop.is_set():
            taken = self._take(retries=False, timeout=hold) if hold > 0 else self._take()
            if taken is None:
                if burst and hold == 0:
                    return
                hold = 0.0
                continue
            hold = 0.0
            queue, raw = taken
            if queue == self.queues.retry and (wait := due_in(raw)) > 0:
                try:
                    self._put_back(raw)
                except Exception:  # noqa: BLE001 - logged with the payload; go on
                    continue
                hold = min(wait, self.block_seconds)
                continue
            try:
                self.handle(raw)
            except Exception:  # noqa: BLE001 - the outcome was logged; go on with the next job
                log.exception("redis-worker: a job's outcome could not be pushed")

    def work(self, *, burst: bool = False) -> dict[str, int]:
        """Take and make jobs in ``workers`` threads until stopped (``burst``: until both input
        lists are empty); returns how many jobs went each way."""
        from media_vm.imaging import configure_libvips

        configure_libvips()
        self.stop.clear()
        threads = [threading.Thread(target=self._loop, args=(burst,), name=f"redis-worker-{n}", daemon=True)
                   for n in range(self.workers)]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.5)  # the main thread stays free for signals
        finally:
            self.stop.set()
        return dict(self.counts)

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop taking jobs; the ones being made are finished (warm shutdown)."""
        install_warm_shutdown(self.stop, log=log, who="redis-worker", finishing="the jobs being made")


def _fields_or_raw(raw: bytes | str) -> dict[str, Any]:
    """A refused payload as ``image:failed`` keeps it: its fields when it is a JSON object,
    else ``{"raw": the text}``."""
    try:
        fields = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        fields = None
    if isinstance(fields, dict):
        return fields
    return {"raw": raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw}


def redis_client(address: str, db: int) -> Any:
    """A redis-py client for ``--redis``: ``host:port`` (the seed's form), or a whole
    ``redis://`` / ``rediss://`` URL (a password, TLS); ``db`` is the database index."""
    import redis

    if address.startswith(("redis://", "rediss://", "unix://")):
        return redis.Redis.from_url(address, db=db, socket_connect_timeout=5,
                                    socket_timeout=BLOCK_SECONDS + 10)
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--redis must be host:port or a redis:// URL, got {address!r}")
    return redis.Redis(host=host.strip("[]"), port=int(port), db=db, socket_connect_timeout=5,
                       socket_timeout=BLOCK_SECONDS + 10)
