"""Which process a worker is, and whether another process of this host still exists.

A worker's heartbeat row names its process whatever ``WORKER_ID`` says: the host name (for
people), a host key and the pid. Two rows with the same host key were written on the same
kernel in the same pid namespace, so there a pid means the same thing to both: a worker that
finds the pid of such a row gone (``os.kill(pid, 0)`` answers "no such process") knows that
worker is dead and takes its claims over at once, instead of waiting for its heartbeat to go
stale (three heartbeat periods, ``media_vm.defaults.HEARTBEAT_SECONDS``) or its lease to run
out. Hosts without ``/proc`` (not Linux) fall back to the host name as the key.

A pid that is alive proves nothing (the kernel may have given it to another process): the
heartbeat's staleness then decides, as it does for workers of other hosts.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessIdentity:
    """One worker process: ``host`` (the host name), ``host_key`` (equal for processes that
    share a kernel boot and a pid namespace, at most 120 characters) and ``pid``."""

    host: str
    host_key: str
    pid: int


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
