"""An idle worker long-polls: about one request per LONG_POLL_SECONDS, and an upload is
picked up by the request already held open (no wait for the next poll)."""

from __future__ import annotations

import time

from tests.helpers import images
from tests.helpers.fault_proxy import FaultProxy
from tests.helpers.processes import wait_until
from tests.helpers.system import running_system


def polls(proxy, since=0.0):
    return [entry for entry in proxy.log if entry[1] == "GET" and entry[2].startswith("/api/media/pending/all")
            and entry[0] >= since]


def test_idle_worker_holds_one_poll_open_and_hears_of_an_upload_at_once(tmp_path):
    with running_system(tmp_path, extra_env={"LONG_POLL_SECONDS": "3", "POLL_IDLE_SECONDS": "5"}) as system, \
            FaultProxy(system.api_url) as proxy:
        token = system.create_user("idle", "community")
        system.spawn("worker", ["-m", "media_vm", "worker"], env={"MAIN_API_URL": proxy.url})
        wait_until(lambda: len(polls(proxy)) >= 2, timeout=30, what="the worker's first polls")
        idle_from = time.monotonic()
        time.sleep(9)
        idle = polls(proxy, idle_from)
        # a plain 0.5 s poll would have made ~18 requests; held 3 s polls make about 3
        assert 1 <= len(idle) <= 5, idle
        assert any("wait=3" in path and took >= 2.5 for _, _, path, took in idle), "polls were held open"

        path = images.photo_jpeg(tmp_path / "p.jpg", 640, 480)
        # upload in the middle of a held poll, not at the edge of its 3 s (where it could as
        # well be the next poll that hears of it)
        count = len(polls(proxy))
        wait_until(lambda: len(polls(proxy)) > count, timeout=10, interval=0.01, what="a poll to end")
        time.sleep(0.8)
        sent = time.monotonic()
        assert system.upload(token, {"product_image": path}).status_code == 200
        answered = time.monotonic()
        wait_until(lambda: system.media_rows(), timeout=10, interval=0.05, what="the upload to be registered")
        # a poll held open while the upload was made was answered by it, before its 3 s ran out
        woken = [e for e in polls(proxy) if e[0] < answered and e[0] + e[3] >= sent and "wait=3" in e[2]
                 and e[3] < 2.9]
        assert woken, polls(proxy)[-4:]
        wait_until(lambda: system.me(token)["pending_images"][0]["status"] == "complete", timeout=60,
                   what="the image to be processed")
        system.stop_process("worker")
