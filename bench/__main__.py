"""``python -m bench [--only SECTION,...] [--quick]``: every figure of issue 5, with ratios.

Sections: pipeline, quality, memory, serving, slow_clients, system (upload, e2e, throughput), recovery,
live, wakeup. Each prints its figures as it goes; at the end the run is written to ``bench/results.json`` and the
README's Performance section is rewritten between its markers. References are measured
in the same run on the same machine, so the ratios hold where absolute times do not.
The process-level sections start the real services with the test harness
(``tests/helpers/system.py``), which is the one place the project knows how to do that.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.inputs import INPUTS, ROOT, ensure_inputs
from bench.measure import median, percentile, ssim, timed

RESULTS = ROOT / "bench" / "results.json"
README = ROOT / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def say(line: str = "") -> None:
    print(line, flush=True)


# --- 1. the pipeline against bare pyvips and Pillow ------------------------------------------

def section_pipeline(inputs: dict[str, Path], repeat: int) -> dict[str, Any]:
    from bench.references import bare_pyvips, pillow
    from media_vm.imaging import analyse_file, configure_libvips, make_variants

    configure_libvips()
    out: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    cases = [("photo_12mp.jpg", "product"), ("photo_50mp.jpg", "product"), ("logo_alpha.png", "product"),
             ("large.webp", "product")]
    say("1. pipeline: full variant set (6 sizes x AVIF, WebP, JPEG [+PNG with alpha]), median of runs")
    say(f"   {'input':18} {'ours':>8} {'bare pyvips':>12} {'Pillow':>8} {'ours/bare':>10} {'Pillow/ours':>12}")
    for name, data_type in cases:
        src = inputs[name]
        runs = 1 if "50mp" in name else repeat
        ours = median(timed(lambda s=src, d=data_type: make_variants(s, work / "ours", stem="b", data_type=d), runs))
        bare = median(timed(lambda s=src: bare_pyvips(s, work / "bare"), runs))
        pil = median(timed(lambda s=src: pillow(s, work / "pil"), max(1, runs // 2)))
        out[name] = {"ours_s": ours, "bare_pyvips_s": bare, "pillow_s": pil, "ours_over_bare": ours / bare,
                     "pillow_over_ours": pil / ours}
        say(f"   {name:18} {ours:7.2f}s {bare:11.2f}s {pil:7.2f}s {ours / bare:9.2f}x {pil / ours:11.2f}x")
    src = inputs["photo_12mp.jpg"]
    analysis = median(timed(lambda: analyse_file(src, data_type="product"), repeat))
    variants = out["photo_12mp.jpg"]["ours_s"]
    out["analysis_12mp"] = {"analysis_s": analysis, "variants_s": variants,
                            "analysis_over_variants": analysis / variants}
    say(f"   analysis of the 12 MP photo: {analysis:.2f}s = {analysis / variants:.2f}x its variants (goal < 0.25)")
    shutil.rmtree(work, ignore_errors=True)
    return out


# --- quality: bytes and SSIM per format ----------------------------------------------------------

def section_quality(inputs: dict[str, Path]) -> dict[str, Any]:
    import pyvips

    from media_vm.imaging import configure_libvips, make_variants

    configure_libvips()
    work = Path(tempfile.mkdtemp(prefix="bench-quality-"))
    src = inputs["photo_12mp.jpg"]
    variants = make_variants(src, work, stem="q", data_type="product")
    say("   quality of the 12 MP photo's variants: bytes and SSIM (luma, 8x8) against a lossless resize")
    out: dict[str, Any] = {}
    for size in ("thumbnail", "detail", "zoom"):
        row = {}
        for v in [v for v in variants if v.size == size]:
            got = pyvips.Image.new_from_file(str(v.path))
            ref = pyvips.Image.thumbnail(str(src), v.width, height=v.height, size="force" if size != "thumbnail"
                                         else "both", crop="attention" if size == "thumbnail" else "none")
            if (ref.width, ref.height) != (got.width, got.height):
                ref = ref.resize(got.width / ref.width, vscale=got.height / ref.height)
            score = ssim(got.numpy(), ref.numpy()) if size != "thumbnail" else float("nan")
            row[v.format] = {"bytes": v.bytes, "ssim": score}
        out[size] = row
        say("   " + f"{size:9}: " + "  ".join(
            f"{fmt} {r['bytes'] / 1024:6.0f} KB" + ("" if r["ssim"] != r["ssim"] else f" ssim {r['ssim']:.3f}")
            for fmt, r in row.items()))
    shutil.rmtree(work, ignore_errors=True)
    return out


# --- 2. memory ----------------------------------------------------------------------------------

# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child forked from this
# (large) benchmark process would report the parent's size.
_PEAK = """
import sys
from pathlib import Path
from media_vm.imaging import configure_libvips, make_variants
configure_libvips()
make_variants(Path(sys.argv[1]), Path(sys.argv[2]), stem="m", data_type="product")
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(int(hwm.split()[1]) // 1024)
"""

_GROWTH = """
import sys, tempfile
from pathlib import Path
import pyvips
from media_vm.imaging import configure_libvips, make_variants
configure_libvips()
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 // (1024 * 1024)
sources = sorted(Path(sys.argv[1]).glob("g*.jpg"))
out = Path(tempfile.mkdtemp())
samples = []
for i in range(int(sys.argv[2])):
    make_variants(sources[i % len(sources)], out, stem=f"g{i % 7}", data_type="product")
    if i + 1 in (50, int(sys.argv[2])):
        samples.append(rss())
print(samples[0], samples[1])
"""


def section_memory(inputs: dict[str, Path], images: int) -> dict[str, Any]:
    from bench.inputs import photo

    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    peak = subprocess.run([sys.executable, "-c", _PEAK, str(inputs["photo_50mp.jpg"]), str(work)], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    peak_mb = int(peak.stdout.split()[-1])
    for i in range(8):
        photo(1200 + 40 * i, 900, seed=10 + i).jpegsave(str(work / f"g{i}.jpg"), Q=85)
    # the worker's image processes run with two malloc arenas (media_vm/isolation.py)
    growth = subprocess.run([sys.executable, "-c", _GROWTH, str(work), str(images)], cwd=ROOT,
                            env={**os.environ, "MALLOC_ARENA_MAX": "2"}, capture_output=True, text=True, check=True)
    after_50, after_all = (int(x) for x in growth.stdout.split()[-2:])
    shutil.rmtree(work, ignore_errors=True)
    change = (after_all - after_50) / after_50
    say(f"2. memory: peak RSS on the 50 MP JPEG {peak_mb} MB (goal < 400 MB, {peak_mb / 400:.2f}x of it); "
        f"RSS after 50 images {after_50} MB, after {images}: {after_all} MB ({change:+.1%}, goal within 10%)")
    return {"peak_rss_50mp_mb": peak_mb, "rss_after_50_mb": after_50, f"rss_after_{images}_mb": after_all,
            "growth": change, "images": images}


# --- 3. serving ----------------------------------------------------------------------------------

def _wrk(url: str, seconds: int, headers: dict[str, str] | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency"]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    text = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(next(line.split()[1] for line in text.splitlines() if line.startswith("Requests/sec:")))
    p99 = next(line.split()[1] for line in text.splitlines() if line.strip().startswith("99%"))
    unit = {"us": 1e-3, "ms": 1.0, "s": 1000.0}
    number = float(p99.rstrip("usm"))
    suffix = p99[len(p99.rstrip("usm")):]
    return {"rps": rps, "p99_ms": number * unit[suffix]}


def _gunicorn(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--config",
           str(ROOT / "deploy" / "gunicorn_media_vm.py")]
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env, "GUNICORN_ACCESSLOG": ""},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_http(url: str, timeout: float = 30) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


def section_serving(inputs: dict[str, Path], seconds: int) -> dict[str, Any]:
    if not shutil.which("wrk"):
        say("3. serving: skipped, wrk is not installed (apt-get install wrk; `make bench` does)")
        return {"skipped": "wrk not installed"}
    from media_vm.db import Repository, make_engine, migrate
    from media_vm.imaging import configure_libvips, make_variants
    from tests.helpers.processes import free_port

    configure_libvips()
    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    storage = work / "media"
    reldir = "library/user_1/product/img"
    variants = make_variants(inputs["upload_2mb.jpg"], storage / reldir, stem="s", data_type="product")
    db_url = f"sqlite:///{work / 'media.sqlite3'}"
    engine = make_engine(db_url)
    migrate(engine)
    repo = Repository(engine)
    repo.register({"id": 1, "user_id": 1, "image_path": "/temp_images/profiles/x.jpg", "original_name": "x",
                   "mime_type": "image/jpeg", "data_type": "product"})
    claim = repo.claim_next("bench")
    media_id = repo.media_file(claim.media_file_id)["media_id"]
    repo.save_variants(claim, media_id, [{"size": v.size, "format": v.format, "bg": v.bg,
                                          "path": f"{reldir}/{v.path.name}", "width": v.width, "height": v.height,
                                          "bytes": v.bytes} for v in variants])
    repo.finish(claim, processing_seconds=0.0)
    engine.dispose()
    detail = next(v for v in variants if v.size == "detail" and v.format == "webp")
    static = work / "static"
    static.mkdir()
    shutil.copy(detail.path, static / "detail.webp")
    env = {"MEDIA_DATABASE_URL": db_url, "MEDIA_STORAGE_ROOT": str(storage), "BENCH_STATIC_ROOT": str(static)}
    results: dict[str, Any] = {"file_bytes": detail.bytes}
    # the same variants in a bucket of a local S3 server (moto's: a Python server sharing these cores)
    from media_vm.storage.s3 import S3Storage
    from tests.helpers.s3 import new_bucket, s3_server

    stack = contextlib.ExitStack()
    bucket = new_bucket(stack.enter_context(s3_server(work / "s3")))
    store = S3Storage(work / "s3-scratch", bucket.settings())
    for v in variants:
        store.write_file(f"{reldir}/{v.path.name}", v.path)
    s3_env = {**env, **bucket.env, "MEDIA_STORAGE_ROOT": str(work / "s3-scratch")}
    names = ("ours", "whitenoise", "accel", "s3_redirect", "s3_stream")
    ports = {name: free_port() for name in names}
    procs = [_gunicorn("media_vm.http:create_app()", ports["ours"], env),
             _gunicorn("bench.whitenoise_app:app", ports["whitenoise"], env),
             _gunicorn("media_vm.http:create_app()", ports["accel"], {**env, "MEDIA_VM_ACCEL_REDIRECT": "/_v/"}),
             _gunicorn("media_vm.http:create_app()", ports["s3_redirect"], {**s3_env, "MEDIA_S3_SERVE": "redirect"}),
             _gunicorn("media_vm.http:create_app()", ports["s3_stream"], {**s3_env, "MEDIA_S3_SERVE": "stream"})]
    try:
        urls = {name: f"http://127.0.0.1:{ports[name]}/serve/{media_id}?size=detail&format=webp" for name in names}
        urls["whitenoise"] = f"http://127.0.0.1:{ports['whitenoise']}/static/detail.webp"
        for url in urls.values():
            _wait_http(url)
        for name, url in urls.items():
            results[name] = _wrk(url, seconds)
        # a client revalidating with its ETag: 304s
        import requests

        etag = requests.get(urls["ours"], timeout=5).headers["ETag"]
        results["ours_304"] = _wrk(urls["ours"], seconds, {"If-None-Match": etag})
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=20)
        stack.close()
        shutil.rmtree(work, ignore_errors=True)
    ratio = results["ours"]["rps"] / results["whitenoise"]["rps"]
    results["ours_over_whitenoise_rps"] = ratio
    results["s3_redirect_over_accel_rps"] = results["s3_redirect"]["rps"] / results["accel"]["rps"]
    say(f"3. serving a {detail.bytes / 1024:.0f} KB variant, 32 connections, same gunicorn config:")
    for name in ("ours", "whitenoise", "accel", "ours_304", "s3_redirect", "s3_stream"):
        say(f"   {name:11} {results[name]['rps']:8.0f} req/s  p99 {results[name]['p99_ms']:6.1f} ms")
    say(f"   /serve over whitenoise: {ratio:.2f}x the requests per second (goal >= 0.8x)")
    say(f"   signed redirect (S3) over X-Accel answer: {results['s3_redirect_over_accel_rps']:.2f}x; "
        "streaming from S3 is bounded by the store (here moto, a Python server on the same cores)")
    return results


# --- slow clients: the main API's latency with 100 of them connected --------------------------------

def section_slow_clients(requests_each: int) -> dict[str, Any]:
    """p99 of ``GET /health`` and an authenticated ``GET /users/me`` against the very command the
    shipped setups run (``python -m main_api serve``), with no other client and then with 100 slow
    ones (70 trickling a PATCH body, 30 stuck mid-headers, all confirmed open before and after)."""
    from tests.helpers.served_api import SlowClients, latencies_ms, p99, served_main_api

    tmp = Path(tempfile.mkdtemp(prefix="bench-slow-"))
    out: dict[str, Any] = {"slow_clients": 100, "requests_each": requests_each}
    with served_main_api(tmp) as api:
        latencies_ms(api, "/users/me", 10, auth=True)  # warm up: connections, imports
        out["idle"] = {"health_p99_ms": p99(latencies_ms(api, "/health", requests_each)),
                       "me_p99_ms": p99(latencies_ms(api, "/users/me", requests_each, auth=True))}
        clients = SlowClients(api, bodies=70, heads=30).open()
        try:
            time.sleep(0.5)
            opened = clients.open_count()
            slow = {"health_p99_ms": p99(latencies_ms(api, "/health", requests_each)),
                    "me_p99_ms": p99(latencies_ms(api, "/users/me", requests_each, auth=True))}
            slow["open_before"], slow["open_after"] = opened, clients.open_count()
        finally:
            clients.close()
        out["slow"] = slow
    shutil.rmtree(tmp, ignore_errors=True)
    idle, slow = out["idle"], out["slow"]
    say(f"7. slow clients: main API (python -m main_api serve), {requests_each} requests each; "
        f"{slow['open_before']}/{slow['open_after']} of 100 slow clients open before/after")
    say(f"   /health   p99 {idle['health_p99_ms']:6.1f} ms idle, {slow['health_p99_ms']:6.1f} ms with 100 slow clients")
    say(f"   /users/me p99 {idle['me_p99_ms']:6.1f} ms idle, {slow['me_p99_ms']:6.1f} ms with 100 slow clients "
        "(goal < 200 ms)")
    return out


# --- 8. live progress: thumbnail first, event latency, many open streams ---------------------------

def section_live(inputs: dict[str, Path], runs: int, latency_runs: int, streams: int) -> dict[str, Any]:
    """The live-progress goals of issue 15, on the whole system (``python -m main_api serve``, the
    VM server, one idle worker with default settings, Redis when one answers at 127.0.0.1:6379):

    - upload to thumbnail: on the client's clock, from sending ``PATCH /users/me`` with a 2 MB,
      12 MP JPEG to the first 200 of ``/api/images/{media_id}?size=thumbnail``, the media id read
      from the owner's event stream (``thumbnail_ready``), as a browser does;
    - event latency: from a progress ``POST`` of the VM (sent here with the key) to the
      subscribed client reading the event;
    - ``GET /users/me`` p99 with ``streams`` event streams open (each confirmed by its first
      bytes), against the same with none."""
    import socket

    import requests

    from tests.helpers.images import numbered_jpeg
    from tests.helpers.redis_servers import SHARED_HOST, SHARED_PORT, SHARED_URL, redis_answers
    from tests.helpers.served_api import p99
    from tests.helpers.sse import EventStream
    from tests.helpers.system import running_system

    tmp = Path(tempfile.mkdtemp(prefix="bench-live-"))
    body = inputs["photo_12mp_2mb.jpg"].read_bytes()
    redis = redis_answers(SHARED_HOST, SHARED_PORT)
    # one user holds all the streams here: the per-user cap is lifted (the server's load is measured)
    env = {"UPLOAD_THROTTLE_RATE": "100000/min", "CACHE_KEY_PREFIX": f"bench-{os.getpid()}",
           "UPLOAD_EVENTS_MAX_STREAMS": str(streams)}
    if redis:
        env["REDIS_URL"] = SHARED_URL
    out: dict[str, Any] = {"redis": redis, "file_bytes": len(body), "runs": runs}
    with running_system(tmp, extra_env=env) as system:
        token = system.create_user("live")
        auth = {"Authorization": f"Token {token}"}
        session = requests.Session()
        session.headers.update(auth)

        def ticket() -> str:
            return str(session.post(f"{system.api_url}/api/uploads/events/ticket", timeout=30).json()["ticket"])

        stream = EventStream(f"{system.api_url}/api/uploads/events?ticket={ticket()}").open()
        system.spawn("bench-worker", ["-m", "media_vm", "worker"])
        time.sleep(3)  # an idle worker, long-polling

        def upload(n: int) -> tuple[int, float]:
            started = time.perf_counter()
            r = session.patch(f"{system.api_url}/users/me", files={"product_image": ("p.jpg", numbered_jpeg(body, n))},
                              timeout=60)
            r.raise_for_status()
            return int(r.json()["pending_images"][0]["id"]), started

        thumbnail, whole = [], []
        for n in range(runs):
            upload_id, started = upload(n + 1)
            ready = stream.wait_for(lambda m, u=upload_id: m.event == "upload" and m.data["id"] == u
                                    and m.data["media_id"] is not None, timeout=120)
            url = f"{system.api_url}/api/images/{ready.data['media_id']}?size=thumbnail"
            while requests.get(url, headers={"Accept": "image/avif,image/webp,*/*"}, timeout=30).status_code != 200:
                time.sleep(0.01)
            thumbnail.append(time.perf_counter() - started)
            stream.wait_for(lambda m, u=upload_id: m.event == "upload" and m.data["id"] == u
                            and m.data["status"] == "processed", timeout=300)
            whole.append(time.perf_counter() - started)
            time.sleep(1.0)
        system.stop_process("bench-worker")
        out["thumbnail"] = {"p50_s": percentile(thumbnail, 0.5), "p99_s": percentile(thumbnail, 0.99)}
        out["processed"] = {"p50_s": percentile(whole, 0.5), "p99_s": percentile(whole, 0.99)}

        stream.close()
        latencies = _event_latencies(system, token, body, latency_runs)
        out["event_latency"] = {"p50_ms": percentile(latencies, 0.5) * 1000,
                                "p99_ms": percentile(latencies, 0.99) * 1000, "n": len(latencies)}

        def me_p99(n: int) -> float:
            times = []
            for _ in range(n):
                started = time.perf_counter()
                session.get(f"{system.api_url}/users/me", timeout=30).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
            return p99(times)

        me_p99(20)  # warm up
        out["me_idle_p99_ms"] = me_p99(200)
        host, port = "127.0.0.1", system.api_port
        path = f"/api/uploads/events?ticket={ticket()}"
        sockets = []
        try:
            for _ in range(streams):
                s = socket.create_connection((host, port), timeout=30)
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
                sockets.append(s)
            def confirmed(sock: socket.socket) -> bool:
                """The stream answered 200 and sent its first event-stream bytes."""
                got = b""
                deadline = time.monotonic() + 30
                while b"retry:" not in got and time.monotonic() < deadline:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    got += chunk
                return got.startswith(b"HTTP/1.1 200") and b"retry:" in got

            opened = sum(1 for s in sockets if confirmed(s))
            out["streams_open"] = opened
            out["me_streams_p99_ms"] = me_p99(200)
        finally:
            for s in sockets:
                s.close()
    if redis:  # the fallback: no Redis, each process's poller (goal: within 1 s)
        with running_system(tmp / "no-redis", extra_env={"UPLOAD_THROTTLE_RATE": "100000/min"}) as system:
            token = system.create_user("polled")
            latencies = _event_latencies(system, token, body, latency_runs)
        out["event_latency_no_redis"] = {"p50_ms": percentile(latencies, 0.5) * 1000,
                                         "p99_ms": percentile(latencies, 0.99) * 1000, "n": len(latencies)}
    shutil.rmtree(tmp, ignore_errors=True)
    t, e = out["thumbnail"], out["event_latency"]
    say(f"8. live progress ({'Redis' if redis else 'no Redis: the database poller'}): "
        f"upload of a {len(body) / 1e6:.1f} MB 12 MP JPEG -> thumbnail served: p50 {t['p50_s']:.2f} s, "
        f"p99 {t['p99_s']:.2f} s (goal p50 <= 1.0 s, p99 <= 2 s); processed p50 {out['processed']['p50_s']:.2f} s")
    say(f"   event latency (progress POST -> client reads it): p50 {e['p50_ms']:.0f} ms, p99 {e['p99_ms']:.0f} ms "
        f"(goal p50 < 100 ms)")
    if "event_latency_no_redis" in out:
        f = out["event_latency_no_redis"]
        say(f"   without Redis (the database poller): p50 {f['p50_ms']:.0f} ms, p99 {f['p99_ms']:.0f} ms "
            "(goal within 1 s)")
    say(f"   /users/me p99: {out['me_idle_p99_ms']:.1f} ms with no stream, {out['me_streams_p99_ms']:.1f} ms with "
        f"{out['streams_open']}/{streams} streams open (goal < 200 ms)")
    return out


def _event_latencies(system: Any, token: str, body: bytes, runs: int) -> list[float]:
    """Seconds from a progress ``POST`` (sent as the VM sends it, with the key) to the owner's
    event stream reading the event, twice per upload over ``runs`` uploads no worker takes."""
    import requests

    from tests.helpers.images import numbered_jpeg
    from tests.helpers.sse import EventStream

    auth = {"Authorization": f"Token {token}"}
    key = {"Authorization": f"Bearer {system.key}"}
    ticket = requests.post(f"{system.api_url}/api/uploads/events/ticket", headers=auth, timeout=30).json()["ticket"]
    latencies = []
    with EventStream(f"{system.api_url}/api/uploads/events?ticket={ticket}") as stream:
        for n in range(runs):
            r = requests.patch(f"{system.api_url}/users/me", headers=auth, timeout=60,
                               files={"product_image": ("p.jpg", numbered_jpeg(body, 20_000 + n))})
            r.raise_for_status()
            upload_id = int(r.json()["pending_images"][0]["id"])
            stream.wait_for(lambda m, u=upload_id: m.event == "upload" and m.data["id"] == u, timeout=30)
            for stage in ("retrieved", "analysed"):
                sent = time.monotonic()
                requests.post(f"{system.api_url}/api/media/progress/{upload_id}", json={"stage": stage},
                              headers=key, timeout=30).raise_for_status()
                got = stream.wait_for(lambda m, u=upload_id, s=stage: m.event == "upload" and m.data["id"] == u
                                      and m.data["stage"] == s, timeout=30)
                latencies.append(got.at - sent)
    return latencies


# --- 4-6. the system: upload latency, end to end, throughput ------------------------------------

def section_system(inputs: dict[str, Path], uploads: int, e2e_runs: int, batch: int) -> dict[str, Any]:
    import requests

    from tests.helpers.fault_proxy import FaultProxy
    from tests.helpers.images import numbered_jpeg
    from tests.helpers.system import running_system

    out: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench-system-"))
    body = inputs["upload_2mb.jpg"].read_bytes()
    with running_system(tmp, extra_env={"LONG_POLL_SECONDS": "10", "UPLOAD_THROTTLE_RATE": "100000/min"}) as system:
        token = system.create_user("bench", "community")
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"

        serial = iter(range(1, 10**9))

        def upload() -> float:
            # a new comment segment each time: the same bytes again would be a duplicate, not a job
            numbered = numbered_jpeg(body, next(serial))
            started = time.perf_counter()
            r = session.patch(f"{system.api_url}/users/me", files={"product_image": ("p.jpg", numbered)}, timeout=60)
            r.raise_for_status()
            return time.perf_counter() - started

        upload()
        lat = [upload() for _ in range(uploads)]
        out["upload"] = {"p50_ms": percentile(lat, 0.5) * 1000, "p99_ms": percentile(lat, 0.99) * 1000,
                         "file_bytes": len(body), "n": uploads}
        say(f"4. upload: PATCH /users/me with a {len(body) / 1e6:.1f} MB JPEG, {uploads} times: "
            f"p50 {out['upload']['p50_ms']:.0f} ms, p99 {out['upload']['p99_ms']:.0f} ms (goal p50 < 60 ms)")
        # clear the queue those uploads made, so the end-to-end runs start from an idle system
        done = system.worker("--once", "--concurrency", "2", timeout=3600)
        assert done.returncode == 0, done.stderr[-2000:]

        with FaultProxy(system.api_url) as proxy:
            worker = system.spawn("bench-worker", ["-m", "media_vm", "worker"], env={"MAIN_API_URL": proxy.url})
            time.sleep(3)
            idle_from = time.monotonic()
            time.sleep(30)
            idle = [e for e in proxy.log if e[1] == "GET" and "pending/all" in e[2] and e[0] >= idle_from]
            out["idle_requests_per_10s"] = len(idle) / 3
            known = {r["main_api_id"] for r in system.media_rows()}
            times = []
            for _ in range(e2e_runs):
                started = time.perf_counter()
                upload()
                row = None
                while row is None:
                    row = next((r for r in system.media_rows() if r["main_api_id"] not in known), None)
                    time.sleep(0.02)
                known.add(row["main_api_id"])
                url = f"{system.vm_url}/serve/{row['media_id']}?size=thumbnail"
                while requests.get(url, timeout=10).status_code != 200:
                    time.sleep(0.02)
                times.append(time.perf_counter() - started)
                time.sleep(2)
            system.stop_process("bench-worker")
            assert worker.returncode is not None
        out["e2e"] = {"p50_s": percentile(times, 0.5), "max_s": max(times), "n": e2e_runs}
        say(f"5. end to end (upload sent -> thumbnail servable, idle system): p50 {out['e2e']['p50_s']:.2f} s, "
            f"max {out['e2e']['max_s']:.2f} s (goal p50 < 2 s); idle worker: "
            f"{out['idle_requests_per_10s']:.1f} polls per 10 s (goal <= 1)")

        for _ in range(batch):
            upload()
        started = time.perf_counter()
        run = system.worker("--once", "--concurrency", "2", timeout=3600)
        elapsed = time.perf_counter() - started
        assert run.returncode == 0, run.stderr[-2000:]
        out["throughput"] = {"images": batch, "seconds": elapsed, "images_per_minute": batch / elapsed * 60,
                             "concurrency": 2}
        say(f"6. throughput: {batch} uploads of {len(body) / 1e6:.1f} MB, one worker host, --concurrency 2: "
            f"{out['throughput']['images_per_minute']:.1f} images/min")
    shutil.rmtree(tmp, ignore_errors=True)
    return out


# --- 7. crash recovery: a worker killed (or frozen) mid-image ---------------------------------------

def section_recovery(inputs: dict[str, Path]) -> dict[str, Any]:
    """Seconds from ``kill -9`` (and from SIGSTOP: a host gone, its pid still "alive") of a
    worker parked inside ``resize_optimize`` to the image resuming in another worker and to it
    being done, with the default lease (300 s) and heartbeat (5 s); the other worker runs on
    the same host, as a second worker process or a restarted one would."""
    import signal as _signal

    from tests.helpers.processes import wait_until
    from tests.helpers.system import running_system

    out: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench-recovery-"))
    body = inputs["upload_2mb.jpg"].read_bytes()
    say("7. crash recovery: a worker stopped inside resize_optimize, default lease 300 s and heartbeat 5 s")
    for case, sig in (("kill -9", _signal.SIGKILL), ("frozen (SIGSTOP)", _signal.SIGSTOP)):
        with running_system(tmp / case.split()[0], extra_env={"LEASE_SECONDS": "300", "HEARTBEAT_SECONDS": "5",
                                                              "LONG_POLL_SECONDS": "10"}) as system:
            token = system.create_user("crash", "community")
            r = system.upload(token, {"product_image": ("p.jpg", body)})
            r.raise_for_status()
            victim = system.spawn("victim", ["-m", "media_vm", "worker"],
                                  env={"WORKER_ID": "victim", "MEDIA_VM_FAILPOINTS": "resize_optimize=sleep:600"})
            wait_until(lambda: system.step_status("resize_optimize") == "running", timeout=120, interval=0.05,
                       what="the victim inside resize_optimize")
            system.spawn("rescuer", ["-m", "media_vm", "worker"], env={"WORKER_ID": "rescuer"})
            wait_until(lambda: system.heartbeat("rescuer"), timeout=60, interval=0.1, what="the rescuer's heartbeat")
            file_id = system.media_rows()[0]["id"]
            started = time.perf_counter()
            victim.send_signal(sig)
            if sig == _signal.SIGKILL:
                victim.wait(timeout=10)
            wait_until(lambda f=file_id: system.checklist(f)["resize_optimize"]["attempts"] == 2, timeout=300,
                       interval=0.1, what="the image to resume")
            resumed = time.perf_counter() - started
            wait_until(lambda: system.media_rows()[0]["status"] == "done", timeout=300, interval=0.1,
                       what="the image to finish")
            finished = time.perf_counter() - started
            if sig == _signal.SIGSTOP:
                victim.send_signal(_signal.SIGKILL)
                victim.wait(timeout=10)
            out[case] = {"resumed_s": resumed, "done_s": finished}
            say(f"   {case:17} resumed after {resumed:5.1f} s, done after {finished:5.1f} s (goal: resumed < 60 s)")
    shutil.rmtree(tmp, ignore_errors=True)
    return out


# --- 9. wake-up latency: Redis BRPOP against long polling and plain polling -------------------------

def section_wakeup(runs: int) -> dict[str, Any]:
    """Seconds from sending an upload (a small JPEG, so the worker is soon idle again) to the
    media VM's worker claiming it (the media DB row has a claim token), on the whole system with
    one idle worker, in three ways, the same run and machine:

    - ``redis``: ``REDIS_URL`` on both services, ``LONG_POLL_SECONDS=0`` and
      ``POLL_IDLE_SECONDS=30``: only the wake-up's BRPOP can be quick;
    - ``redis_long_poll``: ``REDIS_URL`` with the default long polling (10 s) and idle wait (5 s);
    - ``long_poll``: no Redis for the worker, ``LONG_POLL_SECONDS=10`` (the default);
    - ``polling``: no Redis, no long polling, ``POLL_IDLE_SECONDS=5`` (the default).

    Between two uploads the worker finishes the image and then idles a random 0-5 s (one idle
    period), so the uploads do not fall in step with a polling period."""
    import random
    import uuid

    import requests

    from tests.helpers.images import photo_jpeg
    from tests.helpers.processes import wait_until
    from tests.helpers.redis_servers import SHARED_HOST, SHARED_PORT, SHARED_URL, redis_answers
    from tests.helpers.system import running_system

    if not redis_answers(SHARED_HOST, SHARED_PORT):
        say("9. wake-up latency: skipped, no Redis at 127.0.0.1:6379")
        return {"skipped": "no Redis"}
    tmp = Path(tempfile.mkdtemp(prefix="bench-wakeup-"))
    body = photo_jpeg(tmp / "small.jpg", 320, 240, quality=80).read_bytes()
    key = f"bench-{uuid.uuid4().hex}:media:wakeup"
    modes = {
        "redis": {"REDIS_URL": SHARED_URL, "LONG_POLL_SECONDS": "0", "POLL_IDLE_SECONDS": "30"},
        "redis_long_poll": {"REDIS_URL": SHARED_URL, "LONG_POLL_SECONDS": "10", "POLL_IDLE_SECONDS": "5"},
        "long_poll": {"REDIS_URL": "", "LONG_POLL_SECONDS": "10", "POLL_IDLE_SECONDS": "5"},
        "polling": {"REDIS_URL": "", "LONG_POLL_SECONDS": "0", "POLL_IDLE_SECONDS": "5"},
    }
    out: dict[str, Any] = {"runs": runs}
    rng = random.Random(18)
    serial = iter(range(1, 10**9))
    env = {"REDIS_URL": SHARED_URL, "MEDIA_WAKEUP_LIST": key, "UPLOAD_THROTTLE_RATE": "100000/min",
           "CACHE_KEY_PREFIX": f"bench-{os.getpid()}"}
    with running_system(tmp, extra_env=env) as system:
        from tests.helpers.images import numbered_jpeg

        token = system.create_user("wakeup", "community")
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        for mode, worker_env in modes.items():
            import redis

            with contextlib.closing(redis.Redis.from_url(SHARED_URL)) as client:
                client.delete(key)  # wake-ups of the modes without a listener
            system.spawn(f"worker-{mode}", ["-m", "media_vm", "worker"], env={**worker_env, "WORKER_ID": mode})
            wait_until(lambda m=mode: system.heartbeat(m), timeout=60, interval=0.1, what=f"the {mode} worker")
            time.sleep(2)  # its first poll made: idle
            times = []
            for _ in range(runs):
                known = {r["main_api_id"] for r in system.media_rows()}
                started = time.perf_counter()
                r = session.patch(f"{system.api_url}/users/me", timeout=60,
                                  files={"product_image": ("p.jpg", numbered_jpeg(body, next(serial)))})
                r.raise_for_status()
                upload_id = int(r.json()["pending_images"][0]["id"])
                row = None
                while row is None or row["claim_token"] is None and row["status"] == "queued":
                    row = next((x for x in system.media_rows() if x["main_api_id"] == upload_id), None)
                    if time.perf_counter() - started > 60:
                        raise RuntimeError(f"{mode}: upload {upload_id} not claimed within 60 s")
                    time.sleep(0.005)
                times.append(time.perf_counter() - started)
                assert upload_id not in known
                wait_until(lambda u=upload_id: next(x for x in system.media_rows() if x["main_api_id"] == u)
                           ["status"] == "done", timeout=120, interval=0.05, what="the image processed")
                time.sleep(rng.uniform(0, 5))
            system.stop_process(f"worker-{mode}")
            out[mode] = {"p50_s": percentile(times, 0.5), "p90_s": percentile(times, 0.9),
                         "p99_s": percentile(times, 0.99), "max_s": max(times), "n": len(times)}
    shutil.rmtree(tmp, ignore_errors=True)
    rd, lp, pl = out["redis"], out["long_poll"], out["polling"]
    out["long_poll_over_redis_p50"] = lp["p50_s"] / rd["p50_s"]
    out["polling_over_redis_p50"] = pl["p50_s"] / rd["p50_s"]
    say(f"9. wake-up latency, upload sent -> claimed by an idle worker ({runs} uploads each):")
    for mode, label in (("redis", "Redis BRPOP (POLL_IDLE_SECONDS=30)"),
                        ("redis_long_poll", "Redis BRPOP and long polling"), ("long_poll", "long polling (10 s)"),
                        ("polling", "plain polling (5 s)")):
        v = out[mode]
        say(f"   {label:34} p50 {v['p50_s'] * 1000:6.0f} ms, p90 {v['p90_s'] * 1000:6.0f} ms, "
            f"p99 {v['p99_s'] * 1000:6.0f} ms")
    say(f"   long polling {out['long_poll_over_redis_p50']:.1f}x and plain polling "
        f"{out['polling_over_redis_p50']:.1f}x Redis's p50")
    return out


# --- output ----------------------------------------------------------------------------------------

#: The sections, in the order they run.
SECTIONS = ("pipeline", "quality", "memory", "serving", "slow_clients", "system", "recovery", "live", "wakeup")


def machine() -> dict[str, Any]:
    import pyvips

    return {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "libvips": f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}",
            "cpu": next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                         if line.startswith("model name")), platform.processor())}


def readme_table(results: dict[str, Any]) -> str:
    r = results
    rows = ["| figure | measured | reference / goal | ratio |", "|---|---|---|---|"]
    pipe = r.get("pipeline", {})
    for name, v in pipe.items():
        if name.endswith((".jpg", ".png", ".webp")):
            rows.append(f"| variants of `{name}` | {v['ours_s']:.2f} s | bare pyvips {v['bare_pyvips_s']:.2f} s, "
                        f"Pillow {v['pillow_s']:.2f} s | {v['ours_over_bare']:.2f}x bare (goal <= 1.10); "
                        f"Pillow {v['pillow_over_ours']:.1f}x slower (goal >= 3) |")
    if "analysis_12mp" in pipe:
        a = pipe["analysis_12mp"]
        rows.append(f"| analysis of the 12 MP photo | {a['analysis_s']:.2f} s | its variants {a['variants_s']:.2f} s "
                    f"| {a['analysis_over_variants']:.2f}x (goal < 0.25) |")
    if "memory" in r:
        m = r["memory"]
        rows.append(f"| peak RSS, 50 MP JPEG | {m['peak_rss_50mp_mb']} MB | goal 400 MB | "
                    f"{m['peak_rss_50mp_mb'] / 400:.2f}x |")
        last = m[f"rss_after_{m['images']}_mb"]
        rows.append(f"| RSS growth over {m['images']} images | {m['rss_after_50_mb']} -> {last} MB "
                    f"| goal flat within 10% | {m['growth']:+.1%} |")
    s = r.get("serving", {})
    if "ours" in s:
        rows.append(f"| `/serve` cached variant, 32 conns | {s['ours']['rps']:.0f} req/s, "
                    f"p99 {s['ours']['p99_ms']:.1f} ms | whitenoise {s['whitenoise']['rps']:.0f} req/s, "
                    f"p99 {s['whitenoise']['p99_ms']:.1f} ms | "
                    f"{s['ours_over_whitenoise_rps']:.2f}x (goal >= 0.8) |")
        rows.append(f"| `/serve` with X-Accel-Redirect (headers only) | {s['accel']['rps']:.0f} req/s | nginx sends "
                    f"the file | |")
        rows.append(f"| `/serve` revalidation (304) | {s['ours_304']['rps']:.0f} req/s | | |")
    if "s3_redirect" in s:
        rows.append(f"| `/serve` from S3, 302 to a signed URL | {s['s3_redirect']['rps']:.0f} req/s | X-Accel answer "
                    f"{s['accel']['rps']:.0f} req/s | {s['s3_redirect_over_accel_rps']:.2f}x |")
        rows.append(f"| `/serve` from S3, streamed | {s['s3_stream']['rps']:.0f} req/s | bounded by the store: moto "
                    f"on the same 2 cores, not a real S3 | |")
    slow = r.get("slow_clients", {})
    if "slow" in slow:
        for path, key in (("/health", "health_p99_ms"), ("/users/me", "me_p99_ms")):
            measured, idle = slow["slow"][key], slow["idle"][key]
            rows.append(f"| `{path}` p99, 100 slow clients connected | {measured:.1f} ms | "
                        f"{idle:.1f} ms with none; goal < 200 ms | {measured / 200:.2f}x of goal |")
    sysr = r.get("system", {})
    if "upload" in sysr:
        u = sysr["upload"]
        rows.append(f"| upload 2 MB JPEG | p50 {u['p50_ms']:.0f} ms, p99 {u['p99_ms']:.0f} ms | goal p50 < 60 ms | "
                    f"{u['p50_ms'] / 60:.2f}x of goal |")
        e = sysr["e2e"]
        rows.append(f"| upload -> thumbnail servable | p50 {e['p50_s']:.2f} s (max {e['max_s']:.2f} s) "
                    f"| goal p50 < 2 s | {e['p50_s'] / 2:.2f}x of goal |")
        rows.append(f"| idle worker polls | {sysr['idle_requests_per_10s']:.1f} per 10 s | goal <= 1 | |")
        t = sysr["throughput"]
        rows.append(f"| throughput, one host, `--concurrency 2` | {t['images_per_minute']:.1f} images/min | "
                    f"2 MB uploads | |")
    live = r.get("live", {})
    if "thumbnail" in live:
        t, e = live["thumbnail"], live["event_latency"]
        rows.append(f"| upload 2 MB 12 MP JPEG -> first 200 of its thumbnail (client's clock) | "
                    f"p50 {t['p50_s']:.2f} s, p99 {t['p99_s']:.2f} s | goal p50 <= 1.0 s, p99 <= 2 s | "
                    f"{t['p50_s']:.2f}x of goal |")
        rows.append(f"| upload -> processed (every size, the analysis) | p50 {live['processed']['p50_s']:.2f} s | | |")
        rows.append(f"| event latency, progress POST -> client ({'Redis' if live['redis'] else 'no Redis'}) | "
                    f"p50 {e['p50_ms']:.0f} ms, p99 {e['p99_ms']:.0f} ms | goal p50 < 100 ms | "
                    f"{e['p50_ms'] / 100:.2f}x of goal |")
        if "event_latency_no_redis" in live:
            f = live["event_latency_no_redis"]
            rows.append(f"| event latency without Redis (each process's database poller) | p50 {f['p50_ms']:.0f} ms, "
                        f"p99 {f['p99_ms']:.0f} ms | goal within 1 s | {f['p99_ms'] / 1000:.2f}x of goal (p99) |")
        rows.append(f"| `/users/me` p99, {live['streams_open']} event streams open | "
                    f"{live['me_streams_p99_ms']:.1f} ms | {live['me_idle_p99_ms']:.1f} ms with none; goal < 200 ms | "
                    f"{live['me_streams_p99_ms'] / 200:.2f}x of goal |")
    wake = r.get("wakeup", {})
    if "redis" in wake:
        rd = wake["redis"]
        rows.append(f"| upload -> claimed by an idle worker, Redis BRPOP (`POLL_IDLE_SECONDS=30`) | "
                    f"p50 {rd['p50_s'] * 1000:.0f} ms, p99 {rd['p99_s'] * 1000:.0f} ms | goal < 1 s | "
                    f"{rd['p99_s']:.2f}x of goal (p99) |")
        for mode, label in (("redis_long_poll", "Redis and long polling (10 s)"),
                            ("long_poll", "long polling (10 s), no Redis"), ("polling", "plain polling (5 s)")):
            v = wake[mode]
            rows.append(f"| upload -> claimed, {label} | p50 {v['p50_s'] * 1000:.0f} ms, "
                        f"p99 {v['p99_s'] * 1000:.0f} ms | Redis p50 {rd['p50_s'] * 1000:.0f} ms | "
                        f"{v['p50_s'] / rd['p50_s']:.1f}x Redis (p50) |")
    for case, rec in r.get("recovery", {}).items():
        if not isinstance(rec, dict):
            continue  # where and when it ran
        rows.append(f"| worker {case} mid-image -> image resumed elsewhere (done) | {rec['resumed_s']:.1f} s "
                    f"({rec['done_s']:.1f} s) | goal resumed < 60 s; lease 300 s | "
                    f"{rec['resumed_s'] / 60:.2f}x of goal |")
    mach = r["machine"]
    head = (f"Measured {r['when'][:10]} on {mach['cpu']} ({mach['cpu_count']} cores), Python {mach['python']}, "
            f"libvips {mach['libvips']}; `make bench` rewrites this table and `bench/results.json`.")
    # sections kept from an earlier run on another machine say so (their ratios still hold)
    elsewhere = sorted(name for name in SECTIONS if isinstance(r.get(name), dict)
                       and r[name].get("cpu", mach["cpu"]) != mach["cpu"])
    if elsewhere:
        head += " Kept from an earlier run on another machine: " + ", ".join(
            f"{name} ({r[name]['cpu']}{', ' + str(r[name]['when'])[:10] if r[name].get('when') else ''})"
            for name in elsewhere) + "."
    return head + "\n\n" + "\n".join(rows)


def write_readme(table: str) -> None:
    text = README.read_text()
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        README.write_text(f"{before}{START}\n{table}\n{END}{after}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated sections (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (numbers get noisier)")
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}

    def wanted(name: str) -> bool:
        return not only or name in only

    inputs = ensure_inputs()
    say(f"inputs in {INPUTS.relative_to(ROOT)}")
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results: dict[str, Any] = {**previous, "when": datetime.now(UTC).isoformat(), "machine": machine()}
    repeat = 2 if args.quick else 3
    if wanted("pipeline"):
        results["pipeline"] = section_pipeline(inputs, repeat)
    if wanted("quality"):
        results["quality"] = section_quality(inputs)
    if wanted("memory"):
        results["memory"] = section_memory(inputs, 100 if args.quick else 500)
    if wanted("serving"):
        results["serving"] = section_serving(inputs, 5 if args.quick else 10)
    if wanted("slow_clients"):
        results["slow_clients"] = section_slow_clients(100 if args.quick else 300)
    if wanted("system"):
        results["system"] = section_system(inputs, 20 if args.quick else 50, 5 if args.quick else 10,
                                           8 if args.quick else 20)
    if wanted("recovery"):
        results["recovery"] = section_recovery(inputs)
    if wanted("live"):
        results["live"] = section_live(inputs, 5 if args.quick else 20, 10 if args.quick else 25, 500)
    if wanted("wakeup"):
        results["wakeup"] = section_wakeup(8 if args.quick else 20)
    for name in SECTIONS:  # where and when each section that ran now was measured
        if wanted(name) and isinstance(results.get(name), dict):
            results[name].update(cpu=results["machine"]["cpu"], when=results["when"])
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    write_readme(readme_table(results))
    say(f"results written to {RESULTS.relative_to(ROOT)} and README.md (Performance)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
