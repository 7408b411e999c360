"""The failure policy: what a failed step means for its image, and doing it.

:func:`decide`, one pure function, maps (step, kind of error, attempt number) to a
:class:`Decision`; :func:`carry_out` does it with the collaborators it is given (the media DB,
the reporter). The worker records the failure and calls both; nothing else judges failures.
As a table (``max`` = ``MAX_ATTEMPTS``; the delay after attempt ``n`` is
``Retry.get_interval(n)``, exponential and capped):

=============  ===============  =========================  ==============================
kind           step             attempt < max              attempt >= max
=============  ===============  =========================  ==============================
rejected       any              give up, report            give up, report
refused        update_callback  give up, no report         give up, no report
refused        other            give up, report            give up, report
environment    any              wait (retry after delay)   wait: never given up
transient      update_callback  retry after delay          done; the healer calls back
transient      other            retry after delay          give up, report
=============  ===============  =========================  ==============================

"refused" at the callback is not reported: the main API has just refused to hear about the
image for good (its row is gone), so a cleanup would be refused too. "environment" (a full
disk, unwritable or unreachable storage) is the host's fault, not the image's: the upload is
kept until an operator fixes the host. A callback that keeps failing never throws finished
variants away.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from media_vm.checklist import Step
from media_vm.db import Claim, Repository, utcnow
from media_vm.exceptions import ErrorKind
from media_vm.worker.reporting import Reporter
from media_vm.worker.retry import Retry

log = logging.getLogger("media_vm.worker")  # its lines are the worker's, as they always were


class Action(str, Enum):
    """What the worker does with the image after a failed step."""

    RETRY = "retry"  # let go of it; due again after ``delay``
    WAIT = "wait"  # the same, for the host's fault: logged as an error, never exhausted
    GIVE_UP = "give_up"  # mark it failed (and tell the main API if ``report``)
    CALL_BACK_LATER = "call_back_later"  # every variant exists: done, the healer calls back after ``delay``


@dataclass(frozen=True)
class Decision:
    """An :class:`Action`, with ``delay`` in seconds (RETRY, WAIT, CALL_BACK_LATER) and, for
    GIVE_UP, whether the main API is told (``report``)."""

    action: Action
    delay: float = 0.0
    report: bool = True


def decide(step: Step, kind: ErrorKind, attempt: int, retry: Retry) -> Decision:
    """The decision for the ``attempt``-th (1-based) failure of ``step`` with an error of
    ``kind``; ``retry`` gives the attempt limit and the delays. Pure: no I/O, no clock."""
    if kind is ErrorKind.REJECTED:
        return Decision(Action.GIVE_UP)
    if kind is ErrorKind.REFUSED:
        return Decision(Action.GIVE_UP, report=step is not Step.UPDATE_CALLBACK)
    delay = retry.get_interval(attempt)
    if kind is ErrorKind.ENVIRONMENT:
        return Decision(Action.WAIT, delay)
    if not retry.exhausted(attempt):
        return Decision(Action.RETRY, delay)
    if step is Step.UPDATE_CALLBACK:
        return Decision(Action.CALL_BACK_LATER, delay)
    return Decision(Action.GIVE_UP)


def carry_out(decision: Decision, claim: Claim, step: Step, *, repo: Repository, reporter: Reporter,
              reason: str) -> None:
    """Do what ``decision`` says with the claimed image whose ``step`` failed: hand it back, due
    again after ``delay`` (RETRY; WAIT, logged as an error); mark it done for the healer to call
    back after ``delay`` (CALL_BACK_LATER: the variants exist, finished work is never thrown
    away); or give it up with ``reason``, telling the main API if ``decision.report``
    (GIVE_UP). Media DB errors propagate."""
    if decision.action is Action.WAIT:
        # a full disk or unwritable storage is the host's fault, not the image's: keep the
        # upload and retry with a growing (capped) delay until an operator fixes it
        log.error("worker %s: media file %s step %s cannot write to storage; retrying in %.0fs",
                  claim.worker_id, claim.media_file_id, step.value, decision.delay)
    if decision.action in (Action.RETRY, Action.WAIT):
        repo.release(claim, retry_at=utcnow() + timedelta(seconds=decision.delay))
    elif decision.action is Action.CALL_BACK_LATER:
        repo.finish(claim, processing_seconds=None, report_at=utcnow() + timedelta(seconds=decision.delay))
    else:
        reporter.give_up(claim, reason, report=decision.report)
