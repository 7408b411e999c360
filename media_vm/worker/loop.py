"""The worker loop: claims due images from the media DB and works their checklists.

The media DB is the queue: the ``poller`` registers what the main API lists as pending, and
up to ``concurrency`` threads claim due images (``media_vm.db.queue``) and run the steps that
are not done yet. A failed step is recorded here and judged by the ``policy``. SIGTERM/SIGINT
set a stop flag: running steps finish, claims are released, nothing is lost (warm shutdown).
The ``liveness`` beats meanwhile and the ``maintenance`` runs the healer and the deletions.

Like rq's ``Worker``, it is given its collaborators (media DB, storage, main API client,
image processes), so a test builds one in a line and calls ``work(burst=True)`` in this
process; ``media_vm.worker.build_worker`` makes them from the settings for the CLI.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import timedelta

from media_vm.api_client import MainAPIClient
from media_vm.checklist import Step, StepStatus
from media_vm.config import Settings
from media_vm.db import Claim, Repository, migrate, utcnow
from media_vm.defaults import POLL_ERROR_MAX_SECONDS
from media_vm.exceptions import ErrorKind, ImageRejected, LeaseLost, MainAPIError, classify
from media_vm.isolation import ImageProcesses
from media_vm.logging_setup import job_context
from media_vm.steps import CHECKLIST, StepContext, StepImpl
from media_vm.storage import Storage
from media_vm.wakeups import WakeupListener
from media_vm.worker.liveness import Liveness, lease_kept
from media_vm.worker.maintenance import Maintenance
from media_vm.worker.policy import carry_out, decide
from media_vm.worker.poller import Poller
from media_vm.worker.reporting import Reporter
from media_vm.worker.retry import Retry
from media_vm.worker.shutdown import install_warm_shutdown

log = logging.getLogger("media_vm.worker")  # the name its log lines have always carried


class Worker:
    """Polls the main API and processes images, ``concurrency`` at a time.

    ``images`` runs image work in child processes under the per-image time limit (``None``:
    in the worker's own threads). ``before_step``, if given, is called with each step just
    before it runs: the test seam (``media_vm.failpoints``); production passes nothing.
    ``wakeups`` waits on the Redis wake-up list; by default one is made from
    ``settings.redis_url`` when that is set (none without it). Raises ValueError for
    ``concurrency`` < 1.
    """

    def __init__(self, settings: Settings, *, repo: Repository, storage: Storage, client: MainAPIClient,
                 images: ImageProcesses | None = None, concurrency: int = 1,
                 before_step: Callable[[Step], None] | None = None,
                 wakeups: WakeupListener | None = None) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.settings = settings
        self.repo = repo
        self.storage = storage
        self.client = client
        self.images = images
        self.concurrency = concurrency
        self.before_step = before_step
        self.reporter = Reporter(repo, client, public_url=settings.public_url)
        self.retry = Retry(max_attempts=settings.max_attempts, base_seconds=settings.retry_base_seconds)
        self.stop = threading.Event()
        self.wake = threading.Event()  # set when there is work to claim: new rows, or claims freed
        self.poller = Poller(settings, repo=repo, client=client, stop=self.stop, wake=self.wake, wakeups=wakeups)
        self.wakeups = self.poller.wakeups
        self.liveness = Liveness(settings, repo=repo, wake=self.wake, wakeups=self.wakeups)
        self.maintenance = Maintenance(settings, repo=repo, storage=storage, client=client, reporter=self.reporter)
        self.processed = 0
        # the loop's state, set up by work()
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: set[Future[None]] = set()

    def process(self, claim: Claim) -> None:
        """Run the steps of one claimed image that are not done, in order; every line logged
        meanwhile carries the image's media id (``job_id``) and the upload's ``request_id``."""
        try:
            row = self.repo.media_file(claim.media_file_id)
            job_id, request_id = row["media_id"], row["request_id"]
        except Exception:  # noqa: BLE001 - only the log context; _work meets the DB trouble itself
            job_id, request_id = None, None
        storage = self.storage.for_claim(claim.token)  # with object storage: a work folder of its own
        kept = lease_kept(self.repo, claim, lease_seconds=self.settings.lease_seconds)
        try:
            with job_context(job_id=job_id, request_id=request_id), kept:
                self._work(claim, storage)
        finally:
            storage.discard()

    def process_due(self, limit: int) -> int:
        """Claim and process, one after another, up to ``limit`` images that are due now (no
        polling); returns how many. ``python -m media_vm heal`` runs it after a cycle."""
        done = 0
        while done < limit and not self.stop.is_set():
            claim = self.repo.claim_next(self.settings.worker_id)
            if claim is None:
                break
            self.process(claim)
            done += 1
        return done

    def _work(self, claim: Claim, storage: Storage) -> None:
        """The image's remaining steps, until it is done, stops for now, or is lost."""
        started = time.monotonic()
        ctx = StepContext(self.settings, self.repo, storage, self.client, self.reporter, claim, self.images)
        try:
            checklist = self.repo.checklist(claim.media_file_id)
            for step_impl in CHECKLIST:
                if checklist[step_impl.step]["status"] == StepStatus.DONE.value:
                    continue
                if self.stop.is_set():
                    self.repo.release(claim)
                    return
                if not self._run_step(ctx, step_impl):
                    return
            row = self.repo.media_file(claim.media_file_id)
            total = (utcnow() - row["created_at"]).total_seconds() if row["created_at"] else 0.0
            self.repo.finish(claim, processing_seconds=max(total, time.monotonic() - started))
            self.processed += 1
            log.info("worker %s: media file %s done (media_id %s)", claim.worker_id, claim.media_file_id,
                     row["media_id"])
        except LeaseLost as e:
            log.warning("worker %s: %s; leaving it to its new owner", claim.worker_id, e)
        except Exception:
            # e.g. the media DB went away between steps: hand the image back if we can;
            # if even that fails the lease expires and another pass picks it up
            log.exception("worker %s: media file %s interrupted", claim.worker_id, claim.media_file_id)
            with contextlib.suppress(Exception):
                self.repo.release(claim, retry_at=utcnow() + timedelta(seconds=self.retry.base_seconds))

    def _run_step(self, ctx: StepContext, step_impl: StepImpl) -> bool:
        """Run one step; True to go on to the next, False when the image stops here."""
        claim, step = ctx.claim, step_impl.step
        attempt = self.repo.step_started(claim, step)
        log.info("worker %s: media file %s step %s attempt %s", claim.worker_id, claim.media_file_id,
                 step.value, attempt)
        try:
            if self.before_step is not None:
                self.before_step(step)
            step_impl.run(ctx)
        except LeaseLost:
            raise
        except Exception as e:  # noqa: BLE001 - every failure is recorded and judged by the policy
            self._step_failed(ctx, step, attempt, e)
            return False
        self.repo.step_finished(claim, step)
        return True

    def _step_failed(self, ctx: StepContext, step: Step, attempt: int, error: Exception) -> None:
        """Record the failure, and have ``media_vm.worker.policy`` decide and carry it out."""
        claim = ctx.claim
        kind = classify(error)
        ours = isinstance(error, (MainAPIError, ImageRejected))  # their message says it all
        detail = str(error) if ours else f"{type(error).__name__}: {error}"
        if not ours:
            log.exception("worker %s: media file %s step %s failed", claim.worker_id, claim.media_file_id,
                          step.value)
        log.warning("worker %s: media file %s step %s failed: %s", claim.worker_id, claim.media_file_id,
                    step.value, detail)
        self.repo.step_finished(claim, step, error=detail)
        if step is Step.UPDATE_CALLBACK and kind is ErrorKind.REFUSED:
            # the main API will never take this image (e.g. an outputs configuration it does not
            # share, which it records as the upload's failure): an error, not a quiet give-up
            log.error("worker %s: the main API refused the result of media file %s for good: %s",
                      claim.worker_id, claim.media_file_id, detail)
        reason = (f"{step.value} failed {attempt} times: {detail}" if kind is ErrorKind.TRANSIENT
                  else f"{step.value}: {detail}")
        carry_out(decide(step, kind, attempt, self.retry), claim, step, repo=self.repo, reporter=self.reporter,
                  reason=reason)

    def poll(self, *, wait: float = 0.0, after: int | None = None) -> tuple[int, int]:
        """One poll now (:meth:`Poller.poll`): (how many the main API listed, how many were new).
        Raises :class:`MainAPIError` when the main API cannot be polled."""
        return self.poller.poll(wait=wait, after=after)

    def setup(self, *, burst: bool) -> None:
        """Before the loop: libvips configured, the media DB migrated, the liveness started (the
        claims of this host's dead workers taken over, the first heartbeat), the maintenance
        scheduled, the thread pool and the poller started."""
        from media_vm.imaging import configure_libvips

        configure_libvips()
        migrate(self.repo.engine)
        self.stop.clear()
        self.liveness.start()
        self._in_flight = set()
        self.maintenance.start()
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="media-worker")
        self.poller.start(burst=burst)

    def teardown(self) -> None:
        """After the loop, however it ended: the poller stopped, running images finished (or
        handed back), the image processes stopped."""
        self.stop.set()  # the poller's threads end with the loop
        self.poller.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self.liveness.close()  # beats until the last running image is finished or handed back
        if self.images is not None:
            self.images.stop()
        for fut in self._in_flight:
            self._reap(fut)
        self._in_flight = set()

    def work(self, *, burst: bool = False, max_jobs: int | None = None) -> int:
        """Poll and process until stopped; ``burst`` drains what is pending (retries that fall
        due included), then returns; ``max_jobs`` stops after that many images are done.
        Returns how many images this worker finished. Raises :class:`MainAPIError` only in
        burst mode, when the main API could never be polled."""
        self.setup(burst=burst)
        try:
            while not self.stop.is_set():
                try:
                    self.poller.poll_if_due(burst=burst)
                    self._claim(max_jobs)
                    self.maintenance.run_due()
                except MainAPIError:
                    raise
                except Exception:  # noqa: BLE001 - e.g. the media DB away for a while: wait and resume
                    log.exception("worker %s: loop error; retrying shortly", self.settings.worker_id)
                    self.stop.wait(min(POLL_ERROR_MAX_SECONDS, 2.0))
                    continue
                if max_jobs is not None and self.processed >= max_jobs and not self._in_flight:
                    break
                if self._in_flight:
                    self._reap_some()
                elif burst and self.poller.polled_once:
                    if self._drained():
                        break
                else:
                    self.wake.wait(max(0.05, min(0.5, self.poller.seconds_to_next_poll())))
                    self.wake.clear()
        finally:
            self.teardown()
        return self.processed

    def _claim(self, max_jobs: int | None) -> None:
        """Claim due images into free threads of the pool."""
        assert self._pool is not None
        while len(self._in_flight) < self.concurrency and not self.stop.is_set():
            if max_jobs is not None and self.processed + len(self._in_flight) >= max_jobs:
                return
            claim = self.repo.claim_next(self.settings.worker_id)
            if claim is None:
                return
            self._in_flight.add(self._pool.submit(self.process, claim))

    def heal(self) -> dict[str, int]:
        """One self-healing cycle now (:meth:`Maintenance.heal`); returns its counts."""
        return self.maintenance.heal()

    def erase_deleted(self) -> dict[str, int]:
        """One pass over the deleted uploads now (:meth:`Maintenance.erase_deleted`); its counts."""
        return self.maintenance.erase_deleted()

    def _drained(self) -> bool:
        """Burst mode with nothing running: True when no unfinished image is left; else wait
        for the next one to fall due (a retry's backoff)."""
        due = self.repo.next_due()
        if due is None:
            self.maintenance.heal()
            self.maintenance.erase_deleted()
            return True
        self.stop.wait(min(5.0, max(0.1, (due - utcnow()).total_seconds())))
        return False

    def _reap_some(self) -> None:
        done, self._in_flight = wait(self._in_flight, timeout=0.5, return_when=FIRST_COMPLETED)
        for fut in done:
            self._reap(fut)

    def _reap(self, fut: Future[None]) -> None:
        """Collect a finished image. ``process`` already handed back the claim of an image it
        could not finish, or left its lease to expire; either way it is picked up again."""
        error = fut.exception()
        if error is not None:
            log.error("worker %s: image interrupted, to be picked up again: %s: %s",
                      self.settings.worker_id, type(error).__name__, error)

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop the loop after the running steps (warm shutdown)."""
        install_warm_shutdown(self.stop, log=log, who=f"worker {self.settings.worker_id}",
                              finishing="the current steps")

