"""The polling worker: feeds the media DB from the main API and works the checklist.

The media DB is the queue. Each poll registers what the main API lists as pending; then
up to ``concurrency`` threads claim due images (see ``repository``) and run the steps
that are not done yet. SIGTERM/SIGINT set a stop flag: running steps finish, claims are
released, nothing is lost (warm shutdown).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import timedelta

from media_vm.api_client import MainAPIClient, MainAPIError
from media_vm.checklist import Step, StepStatus
from media_vm.config import Settings
from media_vm.db import Claim, Repository, make_engine, migrate, utcnow
from media_vm.defaults import FULL_POLL_EVERY, POLL_ERROR_MAX_SECONDS
from media_vm.exceptions import ImageRejected, LeaseLost, is_environmental
from media_vm.failpoints import failpoint
from media_vm.isolation import ImageProcesses
from media_vm.logging_setup import job_context
from media_vm.retry import Retry
from media_vm.steps import CHECKLIST, StepContext
from media_vm.storage import LocalStorage, make_storage

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, settings: Settings, *, concurrency: int = 1) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.settings = settings
        self.concurrency = concurrency
        self.engine = make_engine(settings.database_url)
        self.repo = Repository(self.engine, lease_seconds=settings.lease_seconds)
        self.storage = make_storage(settings)
        self.client = MainAPIClient(settings.main_api_url, settings.main_api_key, timeout=settings.http_timeout)
        self.retry = Retry(max_attempts=settings.max_attempts, base_seconds=settings.retry_base_seconds)
        self.stop = threading.Event()
        self.wake = threading.Event()  # set by the poller thread when new work arrived
        self.images = ImageProcesses(settings.process_timeout_seconds)
        self.processed = 0

    # -- one image -------------------------------------------------------------------

    def process(self, claim: Claim) -> None:
        """Run the steps of one claimed image that are not done, in order; every line logged
        meanwhile carries the image's media id (``job_id``) and the upload's ``request_id``."""
        try:
            row = self.repo.media_file(claim.media_file_id)
            job_id, request_id = row["media_id"], row["request_id"]
        except Exception:  # noqa: BLE001 - only the log context; _process meets the DB trouble itself
            job_id, request_id = None, None
        with job_context(job_id=job_id, request_id=request_id), self._lease_kept(claim):
            self._process(claim)

    @contextlib.contextmanager
    def _lease_kept(self, claim: Claim) -> Iterator[None]:
        """Renew the claim every third of the lease while the image is worked on, so a long
        step on a busy host is never mistaken for a dead worker; only a worker that really
        stopped lets its lease run out."""
        done = threading.Event()

        def renew() -> None:
            while not done.wait(max(1.0, self.settings.lease_seconds / 3)):
                try:
                    self.repo.renew(claim)
                except LeaseLost:
                    return
                except Exception:  # noqa: BLE001 - the media DB away: the next renewal tries again
                    log.warning("worker %s: could not renew the lease of %s", claim.worker_id, claim.media_file_id)

        keeper = threading.Thread(target=renew, name="lease-keeper", daemon=True)
        keeper.start()
        try:
            yield
        finally:
            done.set()
            keeper.join(timeout=5)

    def _process(self, claim: Claim) -> None:
        workspace = self.storage.for_claim(claim.token)  # with object storage: a folder of its own
        try:
            self._work(claim, workspace)
        finally:
            workspace.discard()

    def _work(self, claim: Claim, storage: LocalStorage) -> None:
        """The image's remaining steps, until it is done, stops for now, or is lost."""
        started = time.monotonic()
        ctx = StepContext(self.settings, self.repo, storage, self.client, claim, self.images)
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

    def _run_step(self, ctx: StepContext, step_impl: object) -> bool:
        """Run one step; True to go on to the next, False when the image stops here."""
        claim = ctx.claim
        step: Step = step_impl.step  # type: ignore[attr-defined]
        attempt = self.repo.step_started(claim, step)
        log.info("worker %s: media file %s step %s attempt %s", claim.worker_id, claim.media_file_id,
                 step.value, attempt)
        try:
            failpoint(step.value)
            step_impl.run(ctx)  # type: ignore[attr-defined]
        except LeaseLost:
            raise
        except ImageRejected as e:
            self._fail_step(claim, step, str(e))
            self.give_up(claim, f"{step.value}: {e}")
            return False
        except MainAPIError as e:
            self._fail_step(claim, step, str(e))
            if e.permanent:
                self.give_up(claim, f"{step.value}: {e}", report=step is not Step.UPDATE_CALLBACK)
                return False
            return self._after_transient(ctx, step, attempt)
        except Exception as e:  # noqa: BLE001 - any other failure is recorded and retried
            log.exception("worker %s: media file %s step %s failed", claim.worker_id, claim.media_file_id,
                          step.value)
            self._fail_step(claim, step, f"{type(e).__name__}: {e}")
            return self._after_transient(ctx, step, attempt, environmental=is_environmental(e))
        self.repo.step_finished(claim, step)
        return True

    def _fail_step(self, claim: Claim, step: Step, error: str) -> None:
        log.warning("worker %s: media file %s step %s failed: %s", claim.worker_id, claim.media_file_id,
                    step.value, error)
        self.repo.step_finished(claim, step, error=error)

    def _after_transient(self, ctx: StepContext, step: Step, attempt: int, *, environmental: bool = False) -> bool:
        claim = ctx.claim
        if environmental:
            # a full disk or unwritable storage is the host's fault, not the image's: keep the
            # upload and retry with a growing (capped) delay until an operator fixes it
            delay = self.retry.get_interval(attempt)
            log.error("worker %s: media file %s step %s cannot write to storage; retrying in %.0fs",
                      claim.worker_id, claim.media_file_id, step.value, delay)
            self.repo.release(claim, retry_at=utcnow() + timedelta(seconds=delay))
            return False
        if not self.retry.exhausted(attempt):
            self.repo.release(claim, retry_at=utcnow() + timedelta(seconds=self.retry.get_interval(attempt)))
            return False
        if step is Step.UPDATE_CALLBACK:
            # the variants exist: never throw finished work away; the healer calls back later
            self.repo.finish(claim, processing_seconds=None,
                             report_at=utcnow() + timedelta(seconds=self.retry.get_interval(attempt)))
            return False
        error = self.repo.checklist(claim.media_file_id)[step]["last_error"]
        self.give_up(claim, f"{step.value} failed {attempt} times: {error}")
        return False

    def give_up(self, claim: Claim, reason: str, *, report: bool = True) -> None:
        """Mark the image failed and tell the main API (``cleanup``); the healer retries the report."""
        self.repo.fail(claim, reason)
        row = self.repo.media_file(claim.media_file_id)
        if not report:
            self.repo.mark_reported(claim.media_file_id)
            return
        try:
            self.client.cleanup(row["main_api_id"], reason)
            self.repo.mark_reported(claim.media_file_id)
        except MainAPIError as e:
            log.warning("worker %s: cleanup of %s not delivered (%s); the healer will retry",
                        claim.worker_id, row["main_api_id"], e)

    # -- the loop --------------------------------------------------------------------

    def poll(self, *, wait: float = 0.0, after: int | None = None) -> tuple[int, int]:
        """Register what the main API lists as pending: (how many it listed, how many were new)."""
        items = self.client.pending(wait=wait, after=after)
        new = sum(1 for item in items if self.repo.register(dict(item)))
        if new:
            log.info("worker %s: %s new of %s pending", self.settings.worker_id, new, len(items))
        return len(items), new

    def _poll_delay(self, failures: int) -> float:
        return min(POLL_ERROR_MAX_SECONDS, max(self.settings.poll_idle_seconds, 1.0) * 2 ** (failures - 1))

    def _long_poller(self) -> None:
        """The poller thread: long polls for rows newer than any registered, so an idle worker
        asks about once per ``LONG_POLL_SECONDS`` yet hears of an upload at once. Every
        ``FULL_POLL_EVERY``-th poll leaves out ``after``, so it also finds rows ops re-queued."""
        failures = polls = 0
        wait = self.settings.long_poll_seconds
        while not self.stop.is_set():
            full = polls % FULL_POLL_EVERY == 0
            started = time.monotonic()
            try:
                listed, new = self.poll(wait=wait, after=None if full else self.repo.max_main_api_id())
                failures, polls = 0, polls + 1
                self.repo.heartbeat(self.settings.worker_id, queue_depth=listed, poll_ok=True)
                if new:
                    self.wake.set()
                elif time.monotonic() - started < wait / 2:
                    # answered at once with nothing new (rows already in flight, or an API too
                    # old to hold the request): pace the next poll instead of spinning
                    self.stop.wait(self.settings.poll_idle_seconds)
            except MainAPIError as e:
                failures += 1
                delay = self._poll_delay(failures)
                log.warning("worker %s: polling failed (%s); next try in %.0fs", self.settings.worker_id, e, delay)
                with contextlib.suppress(Exception):
                    self.repo.heartbeat(self.settings.worker_id, queue_depth=0, poll_ok=False)
                self.stop.wait(delay)
            except Exception:  # noqa: BLE001 - e.g. the media DB away: wait and resume
                log.exception("worker %s: poller error; retrying shortly", self.settings.worker_id)
                self.stop.wait(2.0)

    def work(self, *, burst: bool = False, max_jobs: int | None = None) -> int:
        """Poll and process until stopped; ``burst`` drains what is pending, then returns."""
        from media_vm.healer import heal
        from media_vm.imaging import configure_libvips

        configure_libvips()
        migrate(self.engine)
        poll_failures = 0
        next_poll = 0.0
        poller = None
        if not burst and self.settings.long_poll_seconds > 0:
            poller = threading.Thread(target=self._long_poller, name="media-poller", daemon=True)
            poller.start()
            next_poll = float("inf")  # the poller thread feeds the media DB
        next_heal = time.monotonic() + self.settings.heal_interval_seconds
        polled_once = False
        in_flight: set[Future[None]] = set()
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="media-worker")
        try:
            while not self.stop.is_set():
                now = time.monotonic()
                try:
                    if now >= next_poll:
                        try:
                            depth, _ = self.poll()
                            poll_failures, polled_once = 0, True
                            next_poll = now + self.settings.poll_idle_seconds
                            self.repo.heartbeat(self.settings.worker_id, queue_depth=depth, poll_ok=True)
                        except MainAPIError as e:
                            poll_failures += 1
                            delay = self._poll_delay(poll_failures)
                            log.warning("worker %s: polling failed (%s); next try in %.0fs",
                                        self.settings.worker_id, e, delay)
                            next_poll = now + delay
                            self.repo.heartbeat(self.settings.worker_id, queue_depth=0, poll_ok=False)
                            if burst and poll_failures >= self.settings.max_attempts and not polled_once:
                                raise
                    while len(in_flight) < self.concurrency and not self.stop.is_set():
                        if max_jobs is not None and self.processed + len(in_flight) >= max_jobs:
                            break
                        claim = self.repo.claim_next(self.settings.worker_id)
                        if claim is None:
                            break
                        in_flight.add(pool.submit(self.process, claim))
                    if time.monotonic() >= next_heal:
                        heal(self, process=False)
                        next_heal = time.monotonic() + self.settings.heal_interval_seconds
                except MainAPIError:
                    raise
                except Exception:  # noqa: BLE001 - e.g. the media DB away for a while: wait and resume
                    log.exception("worker %s: loop error; retrying shortly", self.settings.worker_id)
                    self.stop.wait(min(POLL_ERROR_MAX_SECONDS, 2.0))
                    continue
                if max_jobs is not None and self.processed >= max_jobs and not in_flight:
                    break
                if in_flight:
                    done, in_flight = wait(in_flight, timeout=0.5, return_when=FIRST_COMPLETED)
                    for fut in done:
                        self._reap(fut)
                    continue
                if burst and polled_once:
                    due = self.repo.next_due()
                    if due is None:
                        heal(self, process=False)
                        break
                    self.stop.wait(min(5.0, max(0.1, (due - utcnow()).total_seconds())))
                    continue
                self.wake.wait(max(0.05, min(0.5, next_poll - time.monotonic())))
                self.wake.clear()
        finally:
            if poller is not None:
                self.stop.set()  # the poller thread ends with the loop

            pool.shutdown(wait=True)
            self.images.stop()
            for fut in in_flight:
                self._reap(fut)
        return self.processed

    def _reap(self, fut: Future[None]) -> None:
        """Collect a finished image. ``process`` already handed back the claim of an image it
        could not finish, or left its lease to expire; either way it is picked up again."""
        error = fut.exception()
        if error is not None:
            log.error("worker %s: image interrupted, to be picked up again: %s: %s",
                      self.settings.worker_id, type(error).__name__, error)

    def install_signal_handlers(self) -> None:
        def _stop(signum: int, _frame: object) -> None:
            log.info("worker %s: signal %s, finishing the current steps", self.settings.worker_id, signum)
            self.stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
