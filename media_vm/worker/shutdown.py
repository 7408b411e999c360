"""Warm shutdown: SIGTERM and SIGINT set a stop flag, and the work under way finishes.

Both loops, the worker (:class:`~media_vm.worker.Worker`) and the seed's Redis worker
(``media_vm.seed_redis_worker``), look at their flag between units of work (a step, a job) as
rq's worker does, so a systemd stop or a Ctrl-C loses nothing: the running step or job ends and
its outcome is written. Signal handlers run in the main thread, so a loop whose work runs in
other threads keeps its main thread waiting in short slices, free to take the signal.
"""

from __future__ import annotations

import logging
import signal
import threading

#: The signals that ask for a warm shutdown: systemd's and Docker's stop, and Ctrl-C.
SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install_warm_shutdown(stop: threading.Event, *, log: logging.Logger, who: str, finishing: str) -> None:
    """Have :data:`SIGNALS` set ``stop``, each logged at INFO on ``log`` as
    ``"<who>: signal <number>, finishing <finishing>"``. Call it from the main thread
    (``signal.signal`` raises ValueError in any other)."""

    def _stop(signum: int, _frame: object) -> None:
        log.info("%s: signal %s, finishing %s", who, signum, finishing)
        stop.set()

    for signum in SIGNALS:
        signal.signal(signum, _stop)
