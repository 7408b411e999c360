"""Container healthchecks (docker-compose.yml), exit 0 when healthy, 1 otherwise.

    python deploy/healthcheck.py http URL   # 200 from URL within 5 s (the API's and the VM's /health)
    python deploy/healthcheck.py worker     # this worker (WORKER_ID) polled within --max-age seconds
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.request
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def http_ok(url: str) -> bool:
    """True when ``url`` answers 200 within five seconds."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a URL we are given
            return bool(response.status == 200)
    except OSError as e:
        print(f"{url}: {e}", file=sys.stderr)
        return False


def worker_alive(max_age: float) -> bool:
    """True when the worker named ``WORKER_ID`` wrote its heartbeat (every ``HEARTBEAT_SECONDS``) recently."""
    from sqlalchemy import select

    from media_vm.config import Settings
    from media_vm.db import make_engine, utcnow, worker_heartbeats

    settings = Settings.from_env()
    if not os.environ.get("WORKER_ID"):
        print("WORKER_ID is not set: cannot tell which heartbeat is ours", file=sys.stderr)
        return False
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            last_seen = conn.execute(
                select(worker_heartbeats.c.last_seen).where(worker_heartbeats.c.worker_id == settings.worker_id)
            ).scalar()
    finally:
        engine.dispose()
    if last_seen is None:
        print(f"worker {settings.worker_id} has not polled yet", file=sys.stderr)
        return False
    age = utcnow() - last_seen
    if age > timedelta(seconds=max_age):
        print(f"worker {settings.worker_id} last polled {age.total_seconds():.0f}s ago", file=sys.stderr)
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python deploy/healthcheck.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="check", required=True)
    sub.add_parser("http", help="GET a URL").add_argument("url")
    worker = sub.add_parser("worker", help="the worker's heartbeat in the media DB")
    worker.add_argument("--max-age", type=float, default=120.0, help="seconds (default: %(default)s)")
    args = parser.parse_args(argv)
    ok = http_ok(args.url) if args.check == "http" else worker_alive(args.max_age)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
