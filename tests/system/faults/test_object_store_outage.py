"""The S3-compatible store goes away while a worker needs it: the upload waits, never fails.

The worker and the VM server reach a real S3 server (moto's) through a proxy that refuses
the uploads on command, as a store whose endpoint is down does.
"""

from __future__ import annotations

import pyvips
import requests

from media_vm.checklist import STEPS
from tests.helpers.fault_proxy import FaultProxy
from tests.helpers.processes import wait_until
from tests.system.faults.test_worker_faults import api_rows, upload_one


def test_an_object_store_outage_delays_an_upload_but_never_gives_it_up(fresh_system, tmp_path, s3_bucket):
    with FaultProxy(s3_bucket.endpoint) as store:
        uploads = ("PUT", f"/{s3_bucket.name}/")
        store.faults[uploads] = "refuse"
        env = {**s3_bucket.env, "MEDIA_S3_ENDPOINT_URL": store.url, "MAX_ATTEMPTS": "2", "RETRY_BASE_SECONDS": "0.3"}
        with fresh_system(**env) as system:
            upload_one(system, tmp_path, size=(1000, 700))
            system.spawn("worker", ["-m", "media_vm", "worker"])

            def failed_past_max_attempts():
                rows = system.media_rows()
                step = rows and system.checklist(rows[0]["id"])["retrieve_file"]
                return step if step and step["attempts"] >= 4 and step["status"] == "failed" else None

            step = wait_until(failed_past_max_attempts, timeout=120, interval=0.05, what="attempts past MAX_ATTEMPTS")
            assert "StorageUnavailable: object store could not store bulk/" in step["last_error"], step["last_error"]
            row = system.media_rows()[0]
            assert row["status"] == "processing", "a store outage never gives an upload up"
            assert api_rows(system)[0]["status"] == "pending"
            assert s3_bucket.keys() == {}  # nothing half-uploaded

            del store.faults[uploads]  # the store is back
            wait_until(lambda: api_rows(system)[0]["status"] == "complete", timeout=120,
                       what="recovery after the store came back")
            system.stop_process("worker")

            row = system.media_rows()[0]
            attempts = system.checklist(row["id"])
            assert all(attempts[s.value]["attempts"] == 1 for s in STEPS if s.value != "retrieve_file")
            assert len(s3_bucket.keys("library/")) == 18 and len(s3_bucket.keys("bulk/")) == 1
            assert not [p for p in system.storage_root.rglob("*") if p.is_file()], "no working copy left behind"
            r = requests.get(f"{system.vm_url}/serve/{row['media_id']}?size=small&format=jpeg", timeout=10)
            assert r.status_code == 200
            small = pyvips.Image.new_from_buffer(r.content, "")
            assert (small.width, small.height) == (640, 448)
