"""A bounded upload load from a second process: ``python -m tests.system.faults.load_client``.

Reads a JSON job on stdin ({"url", "tokens", "files", "uploads", "clients"}), sends
``uploads`` PATCH /users/me requests from ``clients`` threads (each client uses its own
token, round-robin over the files, each upload numbered so that no two are the same bytes:
the main API would take a repeat for a duplicate and make no job), and prints a JSON summary: status counts and latency
percentiles. It stops after the requested count or 300 s, whichever comes first.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import requests

from tests.helpers.images import numbered_jpeg


def main() -> int:
    job = json.load(sys.stdin)
    url, tokens, files = job["url"], job["tokens"], [Path(f) for f in job["files"]]
    payloads = [(f.name, f.read_bytes()) for f in files]
    per_client = job["uploads"] // job["clients"]
    deadline = time.monotonic() + 300
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {tokens[n % len(tokens)]}"
        for i in range(per_client):
            if time.monotonic() > deadline:
                return
            name, body = payloads[(n + i) % len(payloads)]
            body = numbered_jpeg(body, n * per_client + i)
            started = time.monotonic()
            try:
                r = session.patch(url, files={"product_image": (name, body)}, timeout=60)
                status = str(r.status_code)
            except requests.RequestException as e:
                status = type(e).__name__
            with lock:
                statuses[status] += 1
                latencies.append(time.monotonic() - started)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(job["clients"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1) if latencies else 0.0

    print(json.dumps({"statuses": dict(statuses), "p50_ms": pct(0.5), "p99_ms": pct(0.99), "sent": len(latencies)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
