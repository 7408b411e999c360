"""What the media VM promises when things go wrong, where only real processes show it.

Several worker processes never process an image twice; a worker killed mid-image loses
nothing; a long-running worker backs off while the main API is down. The failure policy
itself (retries, give-up, a callback the main API missed, corrupt and bomb inputs) is
proved in-process by ``tests/media_vm/worker``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from tests.helpers import images
from tests.helpers.fault_proxy import FaultProxy
from tests.helpers.processes import ROOT, reaped, wait_until
from tests.helpers.system import running_system


def upload_photos(system, token, tmp, count, *, size=(900, 600)):
    for i in range(count):
        path = images.photo_jpeg(tmp / f"p{i}.jpg", *size, quality=85, seed=i + 1)
        r = system.upload(token, {"product_image": path})
        assert r.status_code == 200, r.text


def api_status(system):
    """status of each pending_images row as the main API reports it to its owner."""
    return sorted(p["status"] for p in system.me(system.token)["pending_images"])


@pytest.fixture
def fresh_system(tmp_path):
    def start(**extra_env):
        return running_system(tmp_path, extra_env={k: str(v) for k, v in extra_env.items()})
    return start


def test_several_worker_processes_never_process_an_image_twice(fresh_system, tmp_path):
    with fresh_system() as system:
        system.token = system.create_user("many", "community")
        upload_photos(system, system.token, tmp_path, 12)
        procs = [subprocess.Popen([sys.executable, "-m", "media_vm", "worker", "--once", "--concurrency", "2"],
                                  cwd=ROOT, env={**system.env, "WORKER_ID": f"w{n}"},
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
                 for n in range(3)]
        with reaped(*procs):
            outputs = [p.communicate(timeout=600)[0].decode(errors="replace") for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], outputs
        rows = system.media_rows()
        assert len(rows) == 12
        assert {r["status"] for r in rows} == {"done"}
        for row in rows:
            attempts = {s: c["attempts"] for s, c in system.checklist(row["id"]).items()}
            assert set(attempts.values()) == {1}, (row["main_api_id"], attempts)
        assert api_status(system) == ["complete"] * 12
        # the work was shared, not done by one worker while the others idled
        workers = {m.group(1) for out in outputs for m in re.finditer(r"worker (\S+): media file \d+ done", out)}
        assert len(workers) >= 2, workers


def test_a_worker_killed_mid_image_is_taken_over_at_once_by_a_worker_of_its_host_and_loses_nothing(fresh_system,
                                                                                                    tmp_path):
    """kill -9 mid-image: a worker starting on the same host finds the dead pid on the victim's
    heartbeat and takes the image over at once, long before the victim's 300 s lease or its
    180 s heartbeat window (HEARTBEAT_SECONDS=60) could run out; it finishes exactly once."""
    with fresh_system(LEASE_SECONDS=300, HEARTBEAT_SECONDS=60) as system:
        system.token = system.create_user("killed", "community")
        # big enough that resize_optimize takes a while: the kill lands inside it
        path = images.photo_jpeg(tmp_path / "big.jpg", 3600, 2400, quality=75)
        assert system.upload(system.token, {"product_image": path}).status_code == 200
        victim = system.spawn("victim", ["-m", "media_vm", "worker"], env={"WORKER_ID": "victim"})
        system.kill_inside(victim, "resize_optimize", timeout=120)
        row = system.media_rows()[0]
        assert row["status"] == "processing" and row["lease_owner"] == "victim"
        assert api_status(system) == ["pending"]
        beat = system.heartbeat("victim")
        assert beat["pid"] == victim.pid and beat["host_key"], "host and pid recorded whatever WORKER_ID says"

        run = system.worker("--once", env={"WORKER_ID": "rescuer"})
        assert run.returncode == 0, run.stderr[-3000:]
        assert f"worker victim (pid {victim.pid} on this host) is gone" in run.stderr
        done = system.media_rows()[0]
        checklist = system.checklist(done["id"])
        assert done["status"] == "done", run.stderr[-3000:]
        assert checklist["retrieve_file"]["attempts"] == 1, "finished steps are not redone"
        assert checklist["resize_optimize"]["attempts"] == 2
        # resumed before the victim's lease, or even its heartbeat, could have run out
        assert checklist["resize_optimize"]["started_at"] < beat["alive_until"] < row["lease_expires_at"]
        assert api_status(system) == ["complete"]
        library = system.storage_root / f"library/user_{done['user_id']}/product/img"
        assert not list(library.glob(".*")), "the killed worker's temp files were cleaned up"
        assert len(list(library.glob(f"{done['media_id']}_*"))) == 18


def test_main_api_down_while_polling_backs_off_and_recovers(fresh_system, tmp_path):
    with fresh_system() as system, FaultProxy(system.api_url) as proxy:
        system.token = system.create_user("poller", "community")
        upload_photos(system, system.token, tmp_path, 1)
        proxy.faults[("GET", "/api/media/pending/all")] = "500"
        worker = system.spawn("poller", ["-m", "media_vm", "worker"], env={"MAIN_API_URL": proxy.url,
                                                                          "POLL_IDLE_SECONDS": "0.2"})
        wait_until(lambda: proxy.hits.get(("GET", "/api/media/pending/all"), 0) >= 3, timeout=30,
                   what="three failed polls")
        hits_before = proxy.hits[("GET", "/api/media/pending/all")]
        time.sleep(2.5)
        # backing off: 0.2 s polls would be ~12 in 2.5 s; exponential backoff makes it a handful
        assert proxy.hits[("GET", "/api/media/pending/all")] - hits_before <= 3
        assert worker.poll() is None, "the worker survives an API that answers 500"
        proxy.faults.clear()
        wait_until(lambda: api_status(system) == ["complete"], timeout=90, what="the image to be processed")


def test_worker_once_against_an_unreachable_api_exits_with_a_clear_error(tmp_path):
    env = {**os.environ, "MAIN_API_URL": "http://127.0.0.1:9", "MAIN_API_KEY": "k",
           "MEDIA_DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}", "MEDIA_STORAGE_ROOT": str(tmp_path / "media"),
           "POLL_IDLE_SECONDS": "0.05", "MAX_ATTEMPTS": "2"}
    run = subprocess.run([sys.executable, "-m", "media_vm", "worker", "--once"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert "could not be polled" in run.stderr and "Traceback" not in run.stderr
