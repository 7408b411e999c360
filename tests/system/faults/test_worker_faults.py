"""Faults only a real worker process shows: SIGKILL at every step, a late stale worker
(SIGSTOP), an outage of the media DB server. Each image still finishes exactly once.
(Unwritable storage and the rest of the failure policy: ``tests/media_vm/worker``.)"""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime

import pytest

from media_vm.checklist import STEPS
from tests.helpers import images
from tests.helpers.databases import needs_mariadbd
from tests.helpers.processes import wait_until


def api_rows(system):
    return system.me(system.token)["pending_images"]


def upload_one(system, tmp_path, name="photo.jpg", size=(900, 600)):
    system.token = system.create_user(name.split(".")[0], "community")
    path = images.photo_jpeg(tmp_path / name, *size, quality=85)
    r = system.upload(system.token, {"product_image": path})
    assert r.status_code == 200, r.text
    return path


def lease_expired(system):
    row = system.media_rows()[0]
    now = datetime.now(UTC).replace(tzinfo=None)
    return row["lease_expires_at"] is None or (now - row["lease_expires_at"]).total_seconds() > 1.0


def assert_finished_once(system, *, retried_step=None):
    rows = system.media_rows()
    assert len(rows) == 1 and rows[0]["status"] == "done" and rows[0]["reported"], rows
    checklist = system.checklist(rows[0]["id"])
    for step in STEPS:
        want = 2 if step.value == retried_step else 1
        assert checklist[step.value] == {**checklist[step.value], "status": "done", "attempts": want}, step
    api = api_rows(system)
    assert [(p["status"], p["media_id"]) for p in api] == [("complete", rows[0]["media_id"])]
    files = list(system.storage_root.rglob(f"{rows[0]['media_id']}*"))
    assert not [f for f in system.storage_root.rglob(".*tmp*")], "no temp file left behind"
    assert len([f for f in files if "library" in f.parts]) == 18
    return rows[0]


@pytest.mark.parametrize("step", [s.value for s in STEPS])
def test_sigkill_at_every_step_still_finishes_exactly_once(fresh_system, tmp_path, step):
    with fresh_system(LEASE_SECONDS=2) as system:
        upload_one(system, tmp_path)
        victim = system.spawn("victim", ["-m", "media_vm", "worker"],
                              env={"WORKER_ID": "victim", "MEDIA_VM_FAILPOINTS": f"{step}=sleep:60"})
        system.kill_inside(victim, step)
        assert api_rows(system)[0]["status"] == "pending"
        wait_until(lambda: lease_expired(system), timeout=30, what="the dead worker's lease to expire")
        run = system.worker("--once", env={"WORKER_ID": "rescuer"})
        assert run.returncode == 0, run.stderr[-3000:]
        assert_finished_once(system, retried_step=step)


def test_a_stale_worker_calling_back_late_changes_nothing(fresh_system, tmp_path):
    """A worker frozen mid-callback (SIGSTOP: a paused VM, a partition, a host gone: its pid
    still exists, only its silence tells) misses three heartbeats and is taken over long before
    its 300 s lease could run out; when it wakes after another worker finished the image, its
    late callback and writes change nothing."""
    with fresh_system(LEASE_SECONDS=300, HEARTBEAT_SECONDS=1) as system:
        upload_one(system, tmp_path)
        stale = system.spawn("stale", ["-m", "media_vm", "worker", "--once"],
                             env={"WORKER_ID": "stale", "MEDIA_VM_FAILPOINTS": "update_callback=sleep:3"})
        wait_until(lambda: system.step_status("update_callback") == "running", timeout=60, interval=0.05,
                   what="the stale worker at its callback")
        os.kill(stale.pid, signal.SIGSTOP)
        try:
            lease = system.media_rows()[0]["lease_expires_at"]
            wait_until(lambda: heartbeat_ran_out(system, "stale"), timeout=30, what="its heartbeat to run out")
            run = system.worker("--once", env={"WORKER_ID": "rescuer"})
            assert run.returncode == 0, run.stderr[-3000:]
            row = assert_finished_once(system, retried_step="update_callback")
            taken_over_at = system.checklist(row["id"])["update_callback"]["started_at"]
            assert taken_over_at < lease, "taken over before the stale worker's lease could run out"
            before = system.manage("shell", "-c", _ROW_STATE)
        finally:
            os.kill(stale.pid, signal.SIGCONT)
        assert stale.wait(timeout=60) == 0
        assert "lease of stale was taken over" in system.log("stale")
        # the stale callback was a no-op: same row, same media id, same processed_at
        assert system.manage("shell", "-c", _ROW_STATE) == before
        assert system.media_rows()[0] == row


def heartbeat_ran_out(system, worker_id):
    """Past the worker's ``alive_until`` by the claim's own clock (whole seconds, as stored)."""
    from media_vm.db import utcnow

    beat = system.heartbeat(worker_id)
    return beat is not None and beat["alive_until"] < utcnow()


_ROW_STATE = (
    "from main_api.media.models import Upload as P; "
    "print([(p.id, p.status, p.media_id, p.processed_at.isoformat()) for p in P.objects.all()])"
)


@needs_mariadbd
def test_media_db_outage_the_worker_waits_and_resumes(fresh_system, tmp_path, private_mariadb):
    """MariaDB is stopped mid-image and started again: the worker waits, then finishes."""
    db_url = private_mariadb.create_database("media_outage")
    with fresh_system(MEDIA_DATABASE_URL=db_url, LEASE_SECONDS=5, RETRY_BASE_SECONDS=0.5) as system:
        upload_one(system, tmp_path)
        worker = system.spawn("worker", ["-m", "media_vm", "worker"],
                              env={"MEDIA_VM_FAILPOINTS": "resize_optimize=sleep:3"})
        wait_until(lambda: system.step_status("resize_optimize") == "running", timeout=60, interval=0.05,
                   what="the worker inside resize_optimize")
        system.engine.dispose()
        private_mariadb.stop()
        time.sleep(6)  # the step ends while the database is away, and a poll or two fail
        assert worker.poll() is None, "the worker survives the outage"
        private_mariadb.start()
        wait_until(lambda: api_rows(system)[0]["status"] == "complete", timeout=120,
                   what="the image to finish after the outage")
        assert worker.poll() is None
        # the VM marks its row done just after the main API acknowledged the callback
        wait_until(lambda: system.media_rows()[0]["status"] == "done", timeout=30, what="the VM's row done")
        rows = system.media_rows()
        assert len(rows) == 1 and rows[0]["status"] == "done"
        assert "OperationalError" in system.log("worker")
