"""Processes a test starts: a free port for each, a wait until it answers, and a stop when the
test ends, failed or not. The ground floor of ``tests/helpers``: it imports nothing of the suite."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

#: The checkout's root, the working directory of every process a test starts.
ROOT = Path(__file__).resolve().parents[2]

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], T], *, timeout: float, interval: float = 0.2,
               what: str = "condition") -> T:
    """Call ``predicate`` every ``interval`` s until it returns something true, and return that;
    :class:`TimeoutError` naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def stop(proc: subprocess.Popen, *, timeout: float = 10, sig: int = signal.SIGTERM,  # type: ignore[type-arg]
         group: bool | None = None) -> None:
    """``sig`` (SIGTERM), then SIGKILL after ``timeout`` s; to the whole process group when
    ``proc`` leads one of its own (``start_new_session=True``), so that its children go too, and
    then whatever the leader left in its group. Safe on a process that has exited. ``group``:
    whether ``proc`` was started as a group leader; None asks the OS, which cannot tell once the
    leader is reaped (then nothing is sent: its pid may be anyone's now); True is for a caller
    that started it so and may have reaped it already, to kill what it left in its group."""

    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if own_group:
                os.killpg(proc.pid, sig)
            elif proc.poll() is None:
                proc.send_signal(sig)

    if group is not None:
        own_group = group
    else:
        try:  # a zombie still answers; a reaped process does not (its pid may be anyone's now)
            own_group = os.getpgid(proc.pid) == proc.pid
        except ProcessLookupError:
            return
    if proc.poll() is None:
        send(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            send(signal.SIGKILL)
            proc.wait(timeout=timeout)
    if own_group:
        send(signal.SIGKILL)  # whatever the leader left behind in its group


@contextlib.contextmanager
def reaped(*procs: subprocess.Popen) -> Iterator[None]:  # type: ignore[type-arg]
    """``with reaped(*procs):`` the processes still running at the end of the block are stopped."""
    try:
        yield
    finally:
        for proc in procs:
            stop(proc)
