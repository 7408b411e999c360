"""``python -m media_vm redis-worker``: the Redis-queue seed's jobs (issue 18).

Real Redis (the machine's at 127.0.0.1:6379; every list under a prefix of the test's own),
real images. The worker runs in this process (``work(burst=True)``) except in the last test,
which starts the command and stops it with SIGTERM, as an operator would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from media_vm.seed_redis_worker import Queues, RedisWorker
from tests.helpers import images
from tests.helpers.processes import wait_until
from tests.helpers.redis_servers import SHARED_HOST, SHARED_PORT, require_shared_redis

ROOT_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def seed(tmp_path) -> Any:
    """A Redis client, this test's lists (``Queues``), a root folder with ``in/`` and a folder
    outside it; the lists are deleted afterwards."""
    import redis

    url = require_shared_redis()
    client = redis.Redis.from_url(url)
    queues = Queues.prefixed(f"test:{uuid.uuid4().hex}:")
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "in").mkdir(parents=True)
    outside.mkdir()

    class Seed:
        def __init__(self) -> None:
            self.redis, self.queues, self.root, self.outside = client, queues, root, outside

        def worker(self, **options: Any) -> RedisWorker:
            options.setdefault("max_retries", 2)
            options.setdefault("retry_delay", 0.0)  # retries at once, unless a test is about the wait
            return RedisWorker(client, root=root, queues=queues, block_seconds=0.05, **options)

        def push(self, job: dict[str, Any] | str | bytes) -> None:
            client.lpush(queues.jobs, job if isinstance(job, str | bytes) else json.dumps(job))

        def listed(self, name: str) -> list[dict[str, Any]]:
            """The entries of one list, oldest first."""
            return [json.loads(v) for v in reversed(client.lrange(getattr(queues, name), 0, -1))]

    yield Seed()
    client.delete(queues.jobs, queues.retry, queues.done, queues.failed)
    client.close()


def job(job_id: str, input_path: str, *operations: str, output_dir: str = "out", **extra: Any) -> dict[str, Any]:
    return {"jobId": job_id, "inputPath": input_path, "outputDir": output_dir,
            "operations": list(operations or ("thumbnail", "blur", "low-quality")),
            "timestamp": 1767225600000, "retryCount": 0, **extra}


def roughness(image: Any) -> float:
    """Mean absolute difference between horizontal neighbours of the first band (sharpness)."""
    a = np.asarray(image.extract_band(0).numpy(), dtype=np.float64)
    return float(np.abs(np.diff(a, axis=1)).mean())


def test_a_good_job_makes_each_operation_and_goes_to_done(seed):
    images.photo_jpeg(seed.root / "in" / "photo.jpg", 1600, 1200, seed=3)
    images.rgba_png(seed.root / "in" / "logo.png", 400, 300)
    seed.push(job("photo-1", "in/photo.jpg"))
    seed.push(job("logo.2", str(seed.root / "in" / "logo.png"), "thumbnail", "blur", output_dir="out/logos"))

    assert seed.worker().work(burst=True) == {"done": 2, "retry": 0, "failed": 0}

    first, second = seed.listed("done")
    out = seed.root / "out"
    assert first["jobId"] == "photo-1" and first["timestamp"] == 1767225600000 and first["completedAt"]
    assert first["outputs"] == {op: str(out / f"photo-1_{op}.webp") for op in ("thumbnail", "blur", "low-quality")}
    assert second["outputs"] == {op: str(out / "logos" / f"logo.2_{op}.webp") for op in ("thumbnail", "blur")}
    made = {op: images.read(Path(path)) for op, path in first["outputs"].items()}
    assert all(im.get("vips-loader").startswith("webpload") for im in made.values())
    assert (made["thumbnail"].width, made["thumbnail"].height) == (300, 300), "cover: the square filled"
    assert (made["low-quality"].width, made["low-quality"].height) == (640, 480), "inside 640 x 640"
    assert (made["blur"].width, made["blur"].height) == (1280, 960), "inside 1280 x 1280"
    sharp = images.read(seed.root / "in" / "photo.jpg").resize(0.8)
    assert roughness(made["blur"]) < roughness(sharp) / 4, "blurred"
    assert Path(first["outputs"]["low-quality"]).stat().st_size < 40_000, "q30: a placeholder of a few KB"
    logo_thumb = images.read(Path(second["outputs"]["thumbnail"]))
    assert logo_thumb.hasalpha() and (logo_thumb.width, logo_thumb.height) == (300, 300)
    assert sorted(p.name for p in out.rglob("*") if p.is_file() and p.name.startswith(".")) == [], "atomic writes"
    assert seed.listed("failed") == [] and seed.listed("retry") == []


def test_a_failing_job_is_retried_with_its_count_then_failed(seed):
    images.truncated_jpeg(seed.root / "in" / "cut.jpg")
    seed.push(job("cut", "in/cut.jpg", "thumbnail"))

    assert seed.worker(max_retries=2).work(burst=True) == {"done": 0, "retry": 2, "failed": 1}

    [failed] = seed.listed("failed")
    assert failed["jobId"] == "cut" and failed["retryCount"] == 2
    assert "cut.jpg" in failed["reason"] and failed["failedAt"]
    assert seed.listed("retry") == [] and seed.listed("done") == []
    assert not (seed.root / "out" / "cut_thumbnail.webp").exists()


def test_a_retried_job_that_now_works_is_done(seed):
    """A file its producer was still writing: failed once, whole by the retry."""
    images.truncated_jpeg(seed.root / "in" / "late.jpg")
    seed.push(job("late", "in/late.jpg", "low-quality"))
    worker = seed.worker(max_retries=3)
    raw = seed.redis.rpop(seed.queues.jobs)
    assert worker.handle(raw) == "retry"
    images.photo_jpeg(seed.root / "in" / "late.jpg", 320, 240)
    assert worker.work(burst=True) == {"done": 1, "retry": 1, "failed": 0}
    [done] = seed.listed("done")
    assert done["retryCount"] == 1 and Path(done["outputs"]["low-quality"]).is_file()


def epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def test_retries_back_off_and_new_jobs_are_not_held_up_meanwhile(seed):
    """The n-th retry is due ``retry_delay`` x 2^(n-1) after its failure; a retry taken before
    then goes back, and a job pushed meanwhile is made first."""
    images.truncated_jpeg(seed.root / "in" / "late.jpg")
    seed.push(job("late", "in/late.jpg", "low-quality"))
    worker = seed.worker(max_retries=3, retry_delay=1.5)
    for count, delay_ms in ((1, 1500), (2, 3000)):  # doubled for the second retry
        raw = seed.redis.rpop(seed.queues.jobs if count == 1 else seed.queues.retry)
        before = int(time.time() * 1000)
        assert worker.handle(raw) == "retry"
        after = int(time.time() * 1000)
        [retry] = seed.listed("retry")
        assert retry["retryCount"] == count and before + delay_ms <= retry["retryAt"] <= after + delay_ms

    images.photo_jpeg(seed.root / "in" / "late.jpg", 320, 240)  # its producer has finished writing it
    images.photo_jpeg(seed.root / "in" / "fresh.jpg", 320, 240, seed=5)
    counts: dict[str, int] = {}
    working = threading.Thread(target=lambda: counts.update(worker.work(burst=True)))
    working.start()  # the worker finds only the retry, not due for 3 s: it waits on image:jobs
    seed.push(job("fresh", "in/fresh.jpg", "low-quality"))
    working.join(timeout=60)
    assert not working.is_alive() and counts == {"done": 2, "retry": 2, "failed": 0}

    fresh, late = seed.listed("done")
    assert (fresh["jobId"], late["jobId"]) == ("fresh", "late")
    assert epoch_ms(fresh["completedAt"]) < late["retryAt"], "the new job waited for the retry"
    assert epoch_ms(late["completedAt"]) >= late["retryAt"], "the retry was made before it was due"
    assert seed.listed("retry") == []


def test_a_retry_without_retry_at_is_due_at_once(seed):
    """Pushed by another tool in the seed's own format."""
    images.photo_jpeg(seed.root / "in" / "a.jpg", 320, 240)
    seed.redis.lpush(seed.queues.retry, json.dumps(job("a", "in/a.jpg", "thumbnail", retryCount=1)))
    assert seed.worker(retry_delay=60).work(burst=True) == {"done": 1, "retry": 0, "failed": 0}


def test_inputs_go_through_the_uploads_loader_and_its_limits(seed):
    images.svg_file(seed.root / "in" / "drawing.svg")
    images.photo_jpeg(seed.root / "in" / "big.jpg", 400, 300)
    seed.push(job("svg", "in/drawing.svg", "thumbnail"))
    seed.push(job("big", "in/big.jpg", "thumbnail"))

    assert seed.worker(max_retries=0, max_pixels=100_000).work(burst=True) == {"done": 0, "retry": 0, "failed": 2}

    svg, big = seed.listed("failed")
    assert "not a supported image format" in svg["reason"], svg
    assert "over the 0.1 MP limit" in big["reason"], big


@pytest.mark.parametrize("payload, reason", [
    ("not json", "not JSON"),
    ('["a", "list"]', "a JSON object"),
    (json.dumps({"inputPath": "in/a.jpg", "outputDir": "out", "operations": ["blur"]}), "jobId"),
    (json.dumps(job("../up", "in/a.jpg")), "jobId"),
    (json.dumps(job(".hidden", "in/a.jpg")), "jobId"),
    (json.dumps(job("a", "in/a.jpg") | {"operations": []}), "operations"),
    (json.dumps(job("a", "in/a.jpg", "sepia")), "unknown operations ['sepia']"),
    (json.dumps(job("a", "in/a.jpg") | {"retryCount": "1"}), "retryCount"),
    (json.dumps(job("a", "")), "inputPath"),
], ids=["not-json", "not-an-object", "no-job-id", "job-id-with-a-slash", "job-id-dotfile", "no-operations",
        "unknown-operation", "retry-count-a-string", "empty-input"])
def test_a_malformed_job_goes_to_failed_at_once_with_a_reason(seed, payload, reason):
    images.photo_jpeg(seed.root / "in" / "a.jpg", 64, 48)
    seed.push(payload)
    assert seed.worker().work(burst=True) == {"done": 0, "retry": 0, "failed": 1}
    [failed] = seed.listed("failed")
    assert reason in failed["reason"], failed
    if payload == "not json":
        assert failed["raw"] == "not json"
    assert not (seed.root / "out").exists()


def test_paths_outside_the_root_are_refused_to_failed(seed):
    secret = images.photo_jpeg(seed.outside / "secret.jpg", 64, 48)
    images.photo_jpeg(seed.root / "in" / "ok.jpg", 64, 48)
    (seed.root / "in" / "link.jpg").symlink_to(secret)
    (seed.root / "escape").symlink_to(seed.outside)
    jobs = {
        "etc-passwd": job("p1", "/etc/passwd"),
        "dot-dot": job("p2", "../outside/secret.jpg"),
        "absolute-outside": job("p3", str(secret)),
        "symlink-out": job("p4", "in/link.jpg"),
        "output-dot-dot": job("p5", "in/ok.jpg", output_dir="../outside"),
        "output-symlink-out": job("p6", "in/ok.jpg", output_dir="escape/sub"),
        "output-absolute": job("p7", "in/ok.jpg", output_dir="/tmp"),
    }
    for payload in jobs.values():
        seed.push(payload)

    assert seed.worker().work(burst=True) == {"done": 0, "retry": 0, "failed": len(jobs)}

    failed = seed.listed("failed")
    assert [f["jobId"] for f in failed] == [j["jobId"] for j in jobs.values()]
    assert all("outside the root" in f["reason"] for f in failed), failed
    assert sorted(p.name for p in seed.outside.rglob("*")) == ["secret.jpg"], "nothing written outside"
    assert not list(Path("/tmp").glob("p7_*.webp"))


def test_the_command_works_the_lists_and_stops_cleanly_on_sigterm(seed, tmp_path):
    prefix = seed.queues.jobs.removesuffix("image:jobs")
    for n in range(3):
        images.photo_jpeg(seed.root / "in" / f"{n}.jpg", 640, 480, seed=n + 1)
    env = {**os.environ, "REDIS_WORKER_ROOT": str(seed.root), "LOG_FORMAT": "text"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "media_vm", "redis-worker", "--redis", f"{SHARED_HOST}:{SHARED_PORT}", "--db", "0",
         "--workers", "2", "--max-retries", "1", "--queue-prefix", prefix],
        cwd=ROOT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for n in range(3):
            seed.push(job(f"cli-{n}", f"in/{n}.jpg"))
        seed.push("{broken")
        wait_until(lambda: len(seed.listed("done")) == 3 and len(seed.listed("failed")) == 1, timeout=60,
                   interval=0.1, what="the jobs made by the command")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert json.loads(out.decode().strip().splitlines()[-1]) == {"done": 3, "retry": 0, "failed": 1}
    assert len(list((seed.root / "out").glob("cli-*_*.webp"))) == 9


def test_the_command_needs_a_root(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_WORKER_ROOT"}
    result = subprocess.run([sys.executable, "-m", "media_vm", "redis-worker"], cwd=ROOT_DIR, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "REDIS_WORKER_ROOT" in result.stderr
