"""The failure policy, read as a table: (step, kind of error, attempt) -> decision."""

from __future__ import annotations

import errno

import pytest
import requests

from media_vm.checklist import Step
from media_vm.exceptions import (
    ErrorKind,
    ImageRejected,
    ImageTimeout,
    MainAPIError,
    OriginalRejected,
    StorageUnavailable,
    TooLarge,
    classify,
)
from media_vm.worker.policy import Action, Decision, decide
from media_vm.worker.retry import Retry

RETRY = Retry(max_attempts=3, base_seconds=2.0, cap_seconds=300.0)
R, F, E, T = ErrorKind.REJECTED, ErrorKind.REFUSED, ErrorKind.ENVIRONMENT, ErrorKind.TRANSIENT
CALLBACK, RESIZE, RETRIEVE = Step.UPDATE_CALLBACK, Step.RESIZE_OPTIMIZE, Step.RETRIEVE_FILE

TABLE = [
    # step, kind, attempt -> decision
    (RETRIEVE, R, 1, Decision(Action.GIVE_UP)),
    (CALLBACK, R, 1, Decision(Action.GIVE_UP)),
    (RETRIEVE, F, 1, Decision(Action.GIVE_UP)),
    (CALLBACK, F, 1, Decision(Action.GIVE_UP, report=False)),
    (RESIZE, E, 1, Decision(Action.WAIT, 2.0)),
    (RESIZE, E, 3, Decision(Action.WAIT, 8.0)),
    (RESIZE, E, 50, Decision(Action.WAIT, 300.0)),  # never given up; the delay is capped
    (RESIZE, T, 1, Decision(Action.RETRY, 2.0)),
    (RESIZE, T, 2, Decision(Action.RETRY, 4.0)),
    (RESIZE, T, 3, Decision(Action.GIVE_UP)),
    (CALLBACK, T, 2, Decision(Action.RETRY, 4.0)),
    (CALLBACK, T, 3, Decision(Action.CALL_BACK_LATER, 8.0)),
]


@pytest.mark.parametrize(("step", "kind", "attempt", "expected"), TABLE,
                         ids=[f"{s.value}-{k.value}-{a}" for s, k, a, _ in TABLE])
def test_the_policy_table(step, kind, attempt, expected):
    assert decide(step, kind, attempt, RETRY) == expected


def test_one_attempt_allowed_gives_up_a_transient_failure_at_once():
    assert decide(RESIZE, T, 1, Retry(max_attempts=1)) == Decision(Action.GIVE_UP)


def _caused(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


CLASSIFIED = [
    (ImageRejected("not an image"), R),
    (OriginalRejected("the main API sent an empty original"), R),
    (TooLarge("bulk/x.jpg is larger than 67108864 bytes"), R),
    (MainAPIError("HTTP 404", status=404), F),
    (MainAPIError("HTTP 429", status=429), T),
    (MainAPIError("HTTP 500", status=500), T),
    # requests' errors are OSErrors, yet an unreachable API is not the host's storage failing
    (_caused(MainAPIError("ConnectionError"), requests.ConnectionError("refused")), T),
    (StorageUnavailable("bucket unreachable"), E),
    (OSError(errno.ENOSPC, "No space left on device"), E),
    (_caused(RuntimeError("writing a variant"), PermissionError("read-only")), E),
    (FileNotFoundError("a variant vanished"), T),
    (ImageTimeout("over the per-image limit"), T),
    (RuntimeError("libvips"), T),
]


@pytest.mark.parametrize(("error", "kind"), CLASSIFIED, ids=[f"{type(e).__name__}-{k.value}" for e, k in CLASSIFIED])
def test_classify(error, kind):
    assert classify(error) is kind
