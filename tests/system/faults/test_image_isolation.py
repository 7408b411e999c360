"""Image work runs in a child process with a time limit: an image that takes too long, or
a decoder that crashes, costs that image an attempt, never the worker."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.helpers.processes import wait_until
from tests.system.faults.test_worker_faults import api_rows, assert_finished_once, upload_one


def image_children(pid: int) -> list[int]:
    """The worker's spawned image processes (not multiprocessing's resource tracker)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline:
                found.append(int(child))
    return found


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of a process so far, in clock ticks (``/proc/{pid}/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def busy_image_children(pid: int) -> list[int]:
    """The worker's image processes that are computing now (their CPU time grows over 0.1 s):
    an image process killed between two calls is replaced silently, which proves nothing."""
    children = image_children(pid)
    before = {c: cpu_ticks(c) for c in children}
    time.sleep(0.1)
    return [c for c in children if cpu_ticks(c) > before[c]]


def test_an_image_over_the_time_limit_fails_with_its_reason(fresh_system, tmp_path):
    with fresh_system(PROCESS_TIMEOUT_SECONDS=0.3, MAX_ATTEMPTS=2) as system:
        upload_one(system, tmp_path, size=(4000, 3000))
        run = system.worker("--once")
        assert run.returncode == 0, run.stderr[-3000:]
        row = system.media_rows()[0]
        assert row["status"] == "failed", row
        assert "took longer than 0.3 s" in row["failure_reason"]
        assert api_rows(system)[0]["status"] == "failed"


def test_a_crashed_image_process_is_replaced_and_the_image_retried(fresh_system, tmp_path):
    with fresh_system(RETRY_BASE_SECONDS=0.2) as system:
        upload_one(system, tmp_path, size=(4000, 3000))
        worker = system.spawn("worker", ["-m", "media_vm", "worker"])
        busy = wait_until(lambda: system.step_status("resize_optimize") == "running"
                          and busy_image_children(worker.pid), timeout=60, interval=0.02,
                          what="the image process at work inside resize_optimize")
        for child in busy:
            os.kill(child, signal.SIGKILL)  # as if libvips had crashed on this file
        wait_until(lambda: api_rows(system)[0]["status"] == "complete", timeout=120, what="the retried image")
        assert worker.poll() is None, "the worker itself survived"
        system.stop_process("worker")
        assert "the image process died during make_variants" in system.log("worker")
        assert_finished_once(system, retried_step="resize_optimize")
