"""Processes a test starts are stopped when it ends, failed or not."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator


def stop(proc: subprocess.Popen, *, timeout: float = 10) -> None:  # type: ignore[type-arg]
    """SIGTERM, then SIGKILL after ``timeout`` s; to the whole process group when ``proc`` leads
    one of its own (``start_new_session=True``), so that its children go too."""

    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if own_group:
                os.killpg(proc.pid, sig)
            elif proc.poll() is None:
                proc.send_signal(sig)

    try:  # a zombie still answers; a reaped process does not (its pid may be anyone's now)
        own_group = os.getpgid(proc.pid) == proc.pid
    except ProcessLookupError:
        return
    if proc.poll() is None:
        send(signal.SIGTERM)
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
