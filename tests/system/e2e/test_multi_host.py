"""Several media VM hosts sharing one media DB and one S3-compatible store.

Each "host" is a media VM server process and worker processes with a storage root of its
own (nothing is shared on disk); the media DB (SQLite here, a MariaDB database under
``make test-mysql``/CI) and the bucket (a real S3 server on loopback) are shared. Host A
serves with ``MEDIA_S3_SERVE=redirect`` (and is the one the main API proxies to), host B
with ``stream``, so both ways of answering ``/serve`` from the store run end to end.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import pyvips
import requests

from media_vm.checklist import STEPS
from tests.helpers import images
from tests.helpers.processes import ROOT, free_port, reaped, wait_until
from tests.helpers.system import running_system
from tests.helpers.variants import check_geometry, fetch

VARIANTS_PER_PHOTO = 18  # 6 sizes x AVIF, WebP, JPEG


@dataclass
class Host:
    name: str
    url: str
    root: Path
    env: dict[str, str]


@pytest.fixture
def hosts(tmp_path, s3_bucket):
    """The system with host A's VM server, plus host B's VM server on the same DB and bucket."""
    root_a, root_b = tmp_path / "host-a", tmp_path / "host-b"
    env = {**s3_bucket.env, "MEDIA_STORAGE_ROOT": str(root_a), "MEDIA_S3_SERVE": "redirect", "LEASE_SECONDS": "3"}
    with running_system(tmp_path, extra_env=env) as system:
        port_b = free_port()
        url_b = f"http://127.0.0.1:{port_b}"
        env_b = {"MEDIA_STORAGE_ROOT": str(root_b), "MEDIA_S3_SERVE": "stream", "MEDIA_VM_PUBLIC_URL": url_b}
        proc = system.spawn("media-vm-b", ["-m", "media_vm", "serve", "--port", str(port_b)], env=env_b)
        wait_until(lambda: system._alive(proc) and system._ok(f"{url_b}/health"), timeout=60, what="host B's server")
        yield system, s3_bucket, [Host("host-a", system.vm_url, root_a, {}), Host("host-b", url_b, root_b, env_b)]


def upload_photos(system, tmp, count):
    system.token = system.create_user("shared", "community")
    sizes = {}
    for i in range(count):
        size = (900 + 40 * i, 600 + 10 * i)
        path = images.photo_jpeg(tmp / f"p{i}.jpg", *size, quality=85, seed=i + 1)
        assert system.upload(system.token, {"product_image": path}).status_code == 200
        sizes[path.name] = size
    return sizes


def workers(system, host, count, *args):
    return [subprocess.Popen([sys.executable, "-m", "media_vm", "worker", *args], cwd=ROOT,
                             env={**system.env, **host.env, "WORKER_ID": f"{host.name}-{n}"},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
            for n in range(count)]


def stored_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


def assert_in_bucket_once(system, bucket, rows):
    """Every original and every variant the media DB names is in the bucket, and nothing else."""
    expected = {}
    for row in rows:
        expected[row["bulk_path"]] = None
        for variant in _variants(system, row):
            expected[variant["path"]] = variant["bytes"]
    stored = bucket.keys()
    assert set(stored) == set(expected)
    assert all(stored[k] == size for k, size in expected.items() if size is not None)


def _variants(system, row):
    from media_vm.db import Repository

    return Repository(system.engine).variants(row["media_id"])


def test_workers_on_two_hosts_process_each_image_once_and_every_vm_serves_every_image(hosts, tmp_path):
    system, bucket, (host_a, host_b) = hosts
    sizes = upload_photos(system, tmp_path, 8)

    # two worker processes per host at once; each may finish at most two images, so all four
    # must work for the eight to be done: the work is provably shared between the hosts
    procs = workers(system, host_a, 2, "--once", "--max-jobs", "2") + \
        workers(system, host_b, 2, "--once", "--max-jobs", "2")
    with reaped(*procs):
        outputs = [p.communicate(timeout=600)[0].decode(errors="replace") for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [o[-2000:] for o in outputs]

    rows = system.media_rows()
    assert len(rows) == 8 and {r["status"] for r in rows} == {"done"}
    for row in rows:
        attempts = {step: c["attempts"] for step, c in system.checklist(row["id"]).items()}
        assert attempts == {s.value: 1 for s in STEPS}, (row["original_name"], attempts)
        assert len(_variants(system, row)) == VARIANTS_PER_PHOTO
    done_by = [m.group(1) for out in outputs for m in re.finditer(r"worker (\S+): media file \d+ done", out)]
    assert sorted(done_by) == sorted(f"{h}-{n}" for h in ("host-a", "host-b") for n in (0, 1) for _ in (0, 1))
    assert sorted(p["status"] for p in system.me(system.token)["pending_images"]) == ["complete"] * 8

    assert_in_bucket_once(system, bucket, rows)
    for host in (host_a, host_b):  # working copies are gone: the bucket is the only store
        assert stored_files(host.root) == [], host.name

    for row in rows:
        original = sizes[row["original_name"]]
        served = {}
        for host in (host_a, host_b):
            for size in ("thumbnail", "detail"):
                image = fetch(host.url, row["media_id"], size=size, fmt="webp")  # A redirects, B streams
                check_geometry(image, size, original)
                served[(host.name, size)] = image.write_to_memory()
        for size in ("thumbnail", "detail"):
            assert served[("host-a", size)] == served[("host-b", size)]

    # the public URL: the main API proxies to host A, which redirects to the signed object
    media_id = rows[0]["media_id"]
    r = requests.get(f"{system.api_url}/api/images/{media_id}?size=grid", headers={"Accept": "image/avif"},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 302 and "X-Amz-Signature=" in r.headers["Location"]
    image = requests.get(r.headers["Location"], timeout=30)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/avif"
    grid = pyvips.Image.new_from_buffer(image.content, "")
    assert (grid.width, grid.height) == (500, 500)


def test_an_image_begun_on_one_host_is_finished_on_another_from_the_store(hosts, tmp_path):
    system, bucket, (host_a, host_b) = hosts
    upload_photos(system, tmp_path, 1)

    # host A retrieves the original into the bucket and makes the thumbnail set, then dies
    # inside the analysis
    victim = system.spawn("victim", ["-m", "media_vm", "worker"],
                          env={"WORKER_ID": "host-a-victim", "MEDIA_VM_FAILPOINTS": "ai_visual_analysis=sleep:60"})
    system.kill_inside(victim, "ai_visual_analysis")
    row = system.media_rows()[0]
    thumbnails = sorted(key for key in bucket.keys() if key != row["bulk_path"])
    assert len(thumbnails) == 3 and all(f"{row['media_id']}_thumbnail." in key for key in thumbnails)
    assert sorted(bucket.keys()) == sorted([row["bulk_path"], *thumbnails])
    # its working copy of the original, in the claim's own folder, orphaned by the kill (the
    # healer sweeps it later); the thumbnails it published went from there to the bucket
    assert stored_files(host_a.root) == [f"s3-work/{row['claim_token']}/{row['bulk_path']}"]
    assert stored_files(host_b.root) == []

    def lease_expired():
        from datetime import UTC, datetime

        lease = system.media_rows()[0]["lease_expires_at"]  # whole seconds in the media DB
        return lease is None or (datetime.now(UTC).replace(tzinfo=None) - lease).total_seconds() > 1.0

    wait_until(lease_expired, timeout=30, what="host A's lease to expire")
    run = subprocess.run([sys.executable, "-m", "media_vm", "worker", "--once"], cwd=ROOT,
                         env={**system.env, **host_b.env, "WORKER_ID": "host-b-rescuer"},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]

    row = system.media_rows()[0]
    assert row["status"] == "done" and row["reported"], run.stderr[-4000:]
    attempts = {step: c["attempts"] for step, c in system.checklist(row["id"]).items()}
    # not downloaded from the main API again: host B read the original from the bucket
    assert attempts == {"retrieve_file": 1, "make_thumbnail": 1, "ai_visual_analysis": 2, "resize_optimize": 1,
                        "update_callback": 1}
    assert stored_files(host_b.root) == []
    assert_in_bucket_once(system, bucket, [row])
    for host in (host_a, host_b):
        fetch(host.url, row["media_id"], size="zoom", fmt="jpeg")
