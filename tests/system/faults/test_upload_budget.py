"""The upload budget (``UPLOAD_THROTTLE_RATE``) holds per user across processes and hosts.

Two main API servers (``python -m main_api serve``, two gunicorn processes each) share one
database, as two hosts behind a load balancer would; clients spread their uploads over both.
The budget is counted in files, refused whole when a request does not fit, survives a
restart, lives in Redis when ``REDIS_URL`` is set, and a Redis outage lets uploads through.
"""

from __future__ import annotations

import secrets
import subprocess
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers.api_servers import Servers, api_servers
from tests.helpers.redis_servers import private_redis as start_private_redis
from tests.helpers.redis_servers import require_shared_redis

RATE = 10  # per hour: nothing comes back during a test, so counts are exact


def spread(servers: Servers, token: str, requests_count: int, *, clients: int = 8) -> Counter[int]:
    """``requests_count`` PATCHes from ``clients`` concurrent clients, round-robin over the servers."""
    with ThreadPoolExecutor(clients) as pool:
        answers = list(pool.map(lambda i: servers.patch(i, token), range(requests_count)))
    for r in answers:
        assert r.status_code in (200, 429), (r.status_code, r.text[:300])
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) > 0 and set(r.json()) == {"message", "extra"}
    return Counter(r.status_code for r in answers)


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[Servers]:
    """Two servers on one database, the default cache (the database's)."""
    with api_servers(tmp_path_factory.mktemp("budget"), UPLOAD_THROTTLE_RATE=f"{RATE}/hour") as s:
        yield s


def test_the_budget_holds_across_processes_and_restarts(servers):
    token = servers.system.create_user("spreader")
    # 40 requests from 8 clients over 4 processes: with a per-process count, up to 40 got through
    assert spread(servers, token, 40) == {200: RATE, 429: 40 - RATE}
    # a restarted server remembers: the budget is not in its memory
    servers.restart(0)
    assert servers.patch(0, token).status_code == 429
    other = servers.system.create_user("bystander")
    assert servers.patch(1, other).status_code == 200, "each user has a budget of their own"


def test_files_are_counted_and_a_request_over_the_budget_stores_nothing(servers):
    token = servers.system.create_user("sixer")
    assert servers.patch(0, token, files=6).status_code == 200
    assert servers.pending(token) == 6
    files_before = sorted(p for p in servers.system.temp_dir.rglob("*") if p.is_file())

    over = servers.patch(1, token, files=6)  # 6 + 6 > 10: refused whole
    assert over.status_code == 429 and int(over.headers["Retry-After"]) > 0
    assert servers.pending(token) == 6
    assert sorted(p for p in servers.system.temp_dir.rglob("*") if p.is_file()) == files_before

    assert servers.patch(1, token, files=4).status_code == 200  # exactly what is left
    assert servers.pending(token) == 10
    assert servers.patch(0, token, files=1).status_code == 429
    assert servers.patch(0, token).status_code == 429  # a PATCH without files costs one too


# --- Redis ------------------------------------------------------------------------------------

def test_with_redis_url_the_budget_lives_in_redis(tmp_path):
    """The machine's Redis at 127.0.0.1:6379, under a key prefix of this test's own."""
    require_shared_redis()
    import redis

    prefix = f"oaf-test-{secrets.token_hex(6)}"
    client = redis.Redis(host="127.0.0.1", port=6379, db=0)
    try:
        with api_servers(tmp_path, UPLOAD_THROTTLE_RATE=f"{RATE}/hour", REDIS_URL="redis://127.0.0.1:6379/0",
                         CACHE_KEY_PREFIX=prefix) as servers:
            token = servers.system.create_user("redis-user")
            assert spread(servers, token, 24) == {200: RATE, 429: 24 - RATE}
            assert any(b"throttle_uploads_" in key for key in client.scan_iter(f"{prefix}:*")), \
                "the budget is in Redis, not in the database"
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()


@pytest.fixture
def private_redis(tmp_path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A redis-server of this test's own, which it may stop."""
    with start_private_redis(tmp_path) as server:
        yield server


def test_a_redis_outage_lets_uploads_through_with_a_warning(tmp_path, private_redis):
    port, redis_proc = private_redis
    with api_servers(tmp_path, count=1, REDIS_URL=f"redis://127.0.0.1:{port}/0",
                     UPLOAD_THROTTLE_RATE="1/hour") as servers:
        token = servers.system.create_user("outage")
        assert servers.patch(0, token).status_code == 200
        assert servers.patch(0, token).status_code == 429  # Redis up: the budget counts

        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        answers = [servers.patch(0, token, files=1).status_code for _ in range(3)]
        assert answers == [200, 200, 200], "uploads go on while the throttle's store is down"
        assert "upload throttle: the cache did not answer" in servers.log()
