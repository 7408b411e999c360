"""The failure policy: what a failed step means for its image, as one pure function.

:func:`decide` maps (step, kind of error, attempt number) to a :class:`Decision`; the worker
carries it out and nothing else judges failures. As a table (``max`` = ``MAX_ATTEMPTS``;
the delay after attempt ``n`` is ``Retry.get_interval(n)``, exponential and capped):

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

from dataclasses import dataclass
from enum import Enum

from media_vm.checklist import Step
from media_vm.exceptions import ErrorKind
from media_vm.worker.retry import Retry


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
