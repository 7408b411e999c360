"""Liveness: a worker's heartbeat, its claims' leases, and the take-over of dead workers' claims.

A :class:`Liveness` beats for one worker every ``HEARTBEAT_SECONDS`` (its process, and that it
counts as alive for ``HEARTBEAT_MISSED`` periods from then), and at each beat takes over the
claims of this host's workers whose process is gone. While an image is worked on,
:func:`lease_kept` renews its claim, so a long step is never mistaken for a dead worker. Like
the healer, both take their collaborators, not the worker.

A worker's heartbeat row names its process whatever ``WORKER_ID`` says: the host name (for
people), a host key and the pid. Two rows with the same host key were written on the same
kernel in the same pid namespace, so there a pid means the same thing to both: a worker that
finds the pid of such a row gone (``os.kill(pid, 0)`` answers "no such process") knows that
worker is dead and takes its claims over at once, instead of waiting for its heartbeat to go
stale (three heartbeat periods, the ``HEARTBEAT_SECONDS`` setting) or its lease to run
out. Hosts without ``/proc`` (not Linux) fall back to the host name as the key.

A pid that is alive proves nothing (the kernel may have given it to another process): the
heartbeat's staleness then decides, as it does for workers of other hosts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from media_vm.config import Settings
from media_vm.db import Claim, ProcessIdentity, Repository
from media_vm.defaults import HEARTBEAT_MISSED
from media_vm.exceptions import LeaseLost
from media_vm.wakeups import WakeupListener

log = logging.getLogger("media_vm.worker")  # the name its log lines have always carried

__all__ = ["Liveness", "ProcessIdentity", "lease_kept", "pid_exists", "this_process"]


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")  # e.g. "pid:[4026531836]"
    except OSError:
        return ""


def this_process() -> ProcessIdentity:
    """The identity of the calling process. The host key is the kernel's boot id (a new one at
    each boot, so pids of an earlier boot never match) and the pid namespace (a container sees
    other pids than its host), or the host name where Linux does not give them."""
    host = socket.gethostname()[:255]
    boot = _read("/proc/sys/kernel/random/boot_id")
    namespace = _pid_namespace()
    key = f"{boot}/{namespace}" if boot and namespace else f"host:{host}"
    return ProcessIdentity(host=host, host_key=key[:120], pid=os.getpid())


def pid_exists(pid: int) -> bool:
    """Whether a live process with this pid exists on this host (in this pid namespace). A
    process of another user counts (``PermissionError``); a zombie (killed, not yet reaped by
    its parent: state ``Z`` in ``/proc/PID/stat``) does not; pids below 1 never exist."""
    if pid < 1:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    stat = _read(f"/proc/{pid}/stat")
    # "pid (comm) state ...": comm may hold spaces and parentheses, the state follows the last ")"
    return not (stat and stat.rpartition(")")[2].split()[:1] == ["Z"])


class Liveness:
    """The heartbeat of one worker, and the take-over of the claims of this host's dead workers.

    Collaborators: ``settings`` (``worker_id``, ``heartbeat_seconds``), ``repo`` (the media DB),
    ``wakeups`` (whether Redis answers goes into each beat; None without Redis) and ``wake``, set
    when claims were freed so the worker's loop claims them at once. :meth:`start` and
    :meth:`close` bracket the loop. Raises ValueError when ``heartbeat_seconds`` is not positive.
    """

    def __init__(self, settings: Settings, *, repo: Repository, wake: threading.Event,
                 wakeups: WakeupListener | None = None) -> None:
        if settings.heartbeat_seconds <= 0:
            raise ValueError("heartbeat_seconds must be positive")
        self.settings = settings
        self.repo = repo
        self.wake = wake
        self.wakeups = wakeups
        #: the process behind this worker, written with each heartbeat whatever WORKER_ID says
        self.identity: ProcessIdentity = this_process()
        self._stop = threading.Event()  # set after the last image: beats go on through a warm shutdown
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        """Write this worker's heartbeat: its process, and that it counts as alive for
        ``HEARTBEAT_MISSED`` heartbeat periods from now; past that its claims are taken over."""
        redis: dict[str, Any] = {}
        if self.wakeups is not None:
            redis = {"redis_ok": not self.wakeups.down, "redis_outages": self.wakeups.outages}
        self.repo.heartbeat(self.settings.worker_id, process=self.identity,
                            alive_seconds=HEARTBEAT_MISSED * self.settings.heartbeat_seconds, **redis)

    def take_over_dead(self) -> int:
        """End at once the leases of this host's workers whose process is gone (a worker killed
        with SIGKILL, or one that crashed, this worker's own earlier run under the same
        ``WORKER_ID`` included), so their images are claimed now rather than when their
        heartbeat or lease runs out. Returns how many claims were freed."""
        freed = 0
        for row in self.repo.workers_of_host(self.identity.host_key):
            if row["pid"] == self.identity.pid or pid_exists(row["pid"]):
                continue
            n = self.repo.take_over_dead(row["worker_id"], pid=row["pid"])
            if n:
                log.warning("worker %s: worker %s (pid %s on this host) is gone; took over its %s claim(s)",
                            self.settings.worker_id, row["worker_id"], row["pid"], n)
            freed += n
        return freed

    def start(self) -> None:
        """Before the loop: the claims of this host's dead workers taken over, the first
        heartbeat written and the heartbeat thread started."""
        # before this process's first heartbeat: a dead earlier run of this WORKER_ID is found
        # by its pid, which the first beat overwrites
        self.take_over_dead()
        self.beat()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="media-heartbeat", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """After the last running image is finished or handed back: the heartbeat thread
        stopped (waited for up to 10 s)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        """The heartbeat thread: beat every ``heartbeat_seconds`` and take over the claims of
        this host's dead workers; a media DB that is away is tried again at the next beat."""
        while not self._stop.wait(self.settings.heartbeat_seconds):
            try:
                self.beat()
                if self.take_over_dead():
                    self.wake.set()
            except Exception:  # noqa: BLE001 - the media DB away: the next beat tries again
                log.warning("worker %s: heartbeat not written; trying again in %.0fs", self.settings.worker_id,
                            self.settings.heartbeat_seconds, exc_info=True)


@contextlib.contextmanager
def lease_kept(repo: Repository, claim: Claim, *, lease_seconds: float) -> Iterator[None]:
    """Within the block, renew ``claim`` in ``repo`` every third of ``lease_seconds`` (at least
    every second), so a long step on a busy host is never mistaken for a dead worker; only a
    worker that really stopped lets its lease run out. A lost lease ends the renewals."""
    done = threading.Event()

    def renew() -> None:
        while not done.wait(max(1.0, lease_seconds / 3)):
            try:
                repo.renew(claim)
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
