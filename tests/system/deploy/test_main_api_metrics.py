"""The main API's ``/metrics`` under gunicorn with two workers: one count for the whole server."""

from __future__ import annotations

import secrets
import threading

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.served_api import served_main_api


def health_requests_counted(url: str, token: str) -> float:
    """``main_api_http_requests_total`` of ``/health`` as one scrape of ``url`` says."""
    answer = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200, answer.text[:500]
    return sum(sample.value for family in text_string_to_metric_families(answer.text)
               if family.name == "main_api_http_requests"
               for sample in family.samples
               if sample.name == "main_api_http_requests_total" and sample.labels["view"] == "health")


def test_counters_are_summed_over_both_workers_and_never_go_down_between_scrapes(tmp_path):
    """Requests on fresh connections reach both workers while a scraper asks ``/metrics`` again and
    again: each scrape's count is at least the one before (a per-process count went up and down
    with the worker that answered), and at the end it is every request sent. The folder held a
    file of an earlier run, which the server's start removes (a half-written one failed every
    scrape)."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"left by a crashed run")
    token = secrets.token_urlsafe(24)
    with served_main_api(tmp_path, {"PROMETHEUS_MULTIPROC_DIR": str(folder), "METRICS_TOKEN": token}) as api:
        sent = [0] * 4
        done = threading.Event()

        def hit(n: int) -> None:
            while not done.is_set():
                # a new connection each time, so that both workers take some
                answer = requests.get(f"{api.url}/health", headers={"Connection": "close"}, timeout=10)
                assert answer.status_code == 200
                sent[n] += 1

        threads = [threading.Thread(target=hit, args=(n,), daemon=True) for n in range(len(sent))]
        for thread in threads:
            thread.start()
        try:
            scrapes = [health_requests_counted(api.url, token) for _ in range(40)]
        finally:
            done.set()
            for thread in threads:
                thread.join(timeout=15)
        assert all(later >= earlier for earlier, later in zip(scrapes, scrapes[1:], strict=False)), scrapes
        assert scrapes[-1] > scrapes[0]
        assert health_requests_counted(api.url, token) >= sum(sent) > 0
        writers = {path.stem.rsplit("_", 1)[-1] for path in folder.glob("counter_*.db")}
        assert len(writers) >= 2, f"requests reached only the workers {writers}"
        assert "1" not in writers  # the earlier run's file is gone
