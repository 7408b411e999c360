"""The route table and its errors: every 4xx/5xx is JSON ``{"message", "extra"}`` like the main API's."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from media_vm.config import Settings
from media_vm.http import MediaApp

KEY = "vm-test-key"


@pytest.fixture
def app(media_db_url, tmp_path):
    app = MediaApp(replace(Settings(), database_url=media_db_url, storage_root=tmp_path / "media",
                           main_api_key=KEY))
    yield app
    app.engine.dispose()


def call(app, method, path, query="", *, key=KEY):
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query}
    if key:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


def error_of(app, method, path, query=""):
    import json

    status, headers, body = call(app, method, path, query)
    assert headers["Content-Type"] == "application/json" and headers["Cache-Control"] == "no-store"
    payload = json.loads(body)
    assert set(payload) == {"message", "extra"} and isinstance(payload["extra"], dict)
    return status, headers, payload


def test_unknown_paths_are_404_json(app):
    for path in ("/", "/serve", "/serve/a/b", "/healthz", "/metrics/x"):
        status, _, payload = error_of(app, "GET", path)
        assert status == "404 Not Found" and payload == {"message": "not found", "extra": {"path": path}}


def test_a_method_a_route_does_not_take_is_405_with_allow(app):
    for path in (f"/serve/{'0' * 32}", "/health", "/metrics", f"/similar/{'0' * 32}"):
        for method in ("POST", "PUT", "DELETE"):
            status, headers, payload = error_of(app, method, path)
            assert status == "405 Method Not Allowed" and headers["Allow"] == "GET, HEAD"
            assert payload["message"] == "method not allowed"


def test_head_is_answered_where_get_is(app):
    status, headers, _ = call(app, "HEAD", "/health")
    assert status == "200 OK" and headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("query,status", [("size=huge", "400 Bad Request"), ("format=gif", "400 Bad Request"),
                                          ("bg=blue", "400 Bad Request"), ("", "404 Not Found")])
def test_serve_errors_have_the_error_shape(app, query, status):
    got, _, payload = error_of(app, "GET", f"/serve/{'0' * 32}", query)
    assert got == status and payload["message"]
    if query == "size=huge":
        assert "thumbnail" in payload["extra"]["sizes"]


def test_an_unexpected_error_is_a_json_500_without_details(app, monkeypatch, caplog):
    def broken():
        raise RuntimeError("secret detail")

    monkeypatch.setattr(app.repo, "stats", broken)
    status, _, payload = error_of(app, "GET", "/metrics")
    assert status == "500 Internal Server Error" and payload == {"message": "internal error", "extra": {}}
    assert "secret detail" in caplog.text  # logged for the operator, not sent to the client


def test_metrics_name_every_family_the_readme_lists(app):
    repo = app.repo
    repo.register({"id": 1, "user_id": 1, "image_path": "/temp_images/profiles/x.png", "data_type": "product",
                   "mime_type": "image/png"})
    repo.heartbeat("host-a-1", queue_depth=4, poll_ok=True)

    status, headers, body = call(app, "GET", "/metrics")

    assert status == "200 OK" and headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    assert {name: f.type for name, f in families.items()} == {
        "media_vm_jobs": "gauge", "media_vm_step_failures": "gauge", "media_vm_step_attempts": "counter",
        "media_vm_step_retries": "counter", "media_vm_processing_seconds": "histogram",
        "media_vm_queue_depth_seen": "gauge", "media_vm_worker_last_seen_timestamp": "gauge",
        "media_vm_image_step_milliseconds": "histogram", "media_vm_output_ratio": "histogram",
        "media_vm_redis_up": "gauge", "media_vm_redis_outages": "counter",
    }
    assert families["media_vm_redis_up"].samples == [], "only workers with REDIS_URL report Redis"
    jobs = {s.labels["state"]: s.value for s in families["media_vm_jobs"].samples}
    assert jobs == {"queued": 1, "processing": 0, "done": 0, "failed": 0}
    assert [(s.labels, s.value) for s in families["media_vm_queue_depth_seen"].samples] == [({"worker": "host-a-1"}, 4)]
    (seen,) = families["media_vm_worker_last_seen_timestamp"].samples
    assert abs(seen.value - datetime.now(UTC).timestamp()) < 60
    text = body.decode()
    assert 'media_vm_step_attempts_total{step="retrieve_file"} 0.0' in text  # counters keep their _total
    assert 'media_vm_processing_seconds_bucket{le="+Inf"} 0.0' in text
    assert "media_vm_processing_seconds_count 0.0" in text
