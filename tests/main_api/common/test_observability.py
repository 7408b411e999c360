"""Request ids, JSON logs and Prometheus metrics of the main API."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from main_api.common.logging_setup import JsonFormatter, RequestIdFilter, logging_config, request_id_var
from main_api.media.models import Upload
from tests.helpers.images import image_bytes
from tests.main_api.support import MEDIA_KEY, client_for, complete_payload, make_pending, media_client, upload

ROOT = Path(__file__).resolve().parents[3]


# --- request id ---------------------------------------------------------------------------------


def test_a_request_id_is_made_when_absent_and_echoed(user_client):
    first, second = user_client.get("/users/me"), user_client.get("/users/me")
    assert len(first["X-Request-ID"]) == 32 and first["X-Request-ID"] != second["X-Request-ID"]
    # errors and non-DRF views carry it too
    assert len(user_client.get("/no/such/page")["X-Request-ID"]) == 32
    assert len(user_client.get("/health")["X-Request-ID"]) == 32


def test_a_well_formed_client_id_is_kept_a_bad_one_replaced(user_client):
    assert user_client.get("/users/me", HTTP_X_REQUEST_ID="edge-7f3a9c01.42")["X-Request-ID"] == "edge-7f3a9c01.42"
    for bad in ("short", "has space in it ok", "x" * 65, 'quote"injection"here'):
        echoed = user_client.get("/users/me", HTTP_X_REQUEST_ID=bad)["X-Request-ID"]
        assert echoed != bad and len(echoed) == 32


def test_the_upload_request_id_is_stored_and_listed_for_the_media_vm(artist, temp_dir):
    client = client_for(artist)
    client.credentials(HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"],
                       HTTP_X_REQUEST_ID="upload-0123456789")
    response = upload(client, profile_image=("a.png", image_bytes("PNG", (40, 30)), "image/png"),
                      site_image=("b.jpg", image_bytes("JPEG", (40, 30))))
    assert response.status_code == 200 and response["X-Request-ID"] == "upload-0123456789"
    assert set(Upload.objects.values_list("request_id", flat=True)) == {"upload-0123456789"}

    items = media_client().get("/api/media/pending/all").json()["images"]
    assert [item["request_id"] for item in items] == ["upload-0123456789"] * 2


def test_log_lines_of_a_request_carry_its_id(artist, temp_dir, caplog):
    image = make_pending(artist)
    with caplog.at_level(logging.INFO, logger="main_api"):
        media_client().post(f"/api/media/complete/{image.pk}", complete_payload(), format="json",
                            HTTP_X_REQUEST_ID="callback-id-0001")
    [record] = [r for r in caplog.records if "processed as media" in r.getMessage()]
    RequestIdFilter().filter(record)
    assert record.request_id == "callback-id-0001"


# --- log format ---------------------------------------------------------------------------------


def test_json_lines_have_the_fields_and_the_extras():
    record = logging.makeLogRecord({"name": "main_api.media", "levelname": "WARNING", "levelno": 30,
                                    "msg": "image %s failed", "args": (7,), "image_id": 7})
    token = request_id_var.set("req-abcdef012")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "image 7 failed" and entry["level"] == "WARNING"
    assert entry["logger"] == "main_api.media" and entry["service"] == "main_api"
    assert entry["request_id"] == "req-abcdef012" and entry["image_id"] == 7
    assert entry["ts"].endswith("+00:00")
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(log_format="xml")


PRINT_LOG = """
import django, logging
django.setup()
logging.getLogger("main_api.test").warning("hello %s", "there")
"""


@pytest.mark.parametrize(
    ("env", "is_json"),
    [({}, True), ({"LOG_FORMAT": "text"}, False), ({"DJANGO_ENV": "dev"}, False),
     ({"DJANGO_ENV": "dev", "LOG_FORMAT": "json"}, True)],
)
def test_log_format_defaults_to_json_in_production(env, is_json, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", PRINT_LOG], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "main_api.settings", "DJANGO_SECRET_KEY": "s" * 40,
             "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "STATIC_ROOT": str(tmp_path / "static"), **env},
    )
    assert result.returncode == 0, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    if is_json:
        entry = json.loads(line)
        assert entry["message"] == "hello there" and entry["logger"] == "main_api.test"
    else:
        assert line.endswith("WARNING main_api.test [-] hello there")


# --- metrics ------------------------------------------------------------------------------------


def scrape(client, **headers) -> dict[str, list]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {f.name: f.samples for f in text_string_to_metric_families(response.content.decode())}


def sample(families, name: str, **labels) -> float:
    for family in families.values():
        for s in family:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def test_metrics_need_the_media_key_or_the_metrics_token(client, settings, db):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    scrape(client, HTTP_AUTHORIZATION=f"Bearer {MEDIA_KEY}")
    settings.METRICS_TOKEN = "scraper-token-123"
    scrape(client, HTTP_AUTHORIZATION="Bearer scraper-token-123")
    scrape(client, HTTP_AUTHORIZATION=f"Bearer {MEDIA_KEY}")
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scraper-token-123").status_code == 401


def test_requests_uploads_and_pending_images_are_counted(client, artist, user_client, temp_dir):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {MEDIA_KEY}"}
    before = scrape(client, **auth)
    user_client.get("/users/me")
    upload(user_client, profile_image=("a.png", image_bytes("PNG", (40, 30)), "image/png"))
    upload(user_client, logo_image=("not.png", b"plain text, not an image", "image/png"))
    done = make_pending(artist, "site_image")
    media_client().post(f"/api/media/complete/{done.pk}", complete_payload(), format="json")

    after = scrape(client, **auth)

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("main_api_http_requests_total", view="users-me", method="GET", status="200") == 1
    assert delta("main_api_http_requests_total", view="users-me", method="PATCH", status="200") == 1
    assert delta("main_api_http_requests_total", view="users-me", method="PATCH", status="400") == 1
    assert delta("main_api_http_requests_total", view="media-complete", method="POST", status="200") == 1
    assert delta("main_api_http_request_duration_seconds_count", view="users-me") == 3
    assert delta("main_api_uploads_total", data_type="profile", outcome="accepted") == 1
    assert delta("main_api_uploads_total", data_type="logo", outcome="rejected") == 1
    assert sample(after, "main_api_pending_images", status="pending") == 1
    assert sample(after, "main_api_pending_images", status="processed") == 0
    assert sample(after, "main_api_pending_images", status="complete") == 1
    assert sample(after, "main_api_pending_images", status="failed") == 0
    assert sample(after, "main_api_pending_images_stuck") == 0


def test_an_oversized_upload_is_counted_as_too_large(client, user_client, settings, temp_dir):
    settings.MAX_UPLOAD_BYTES = 1000
    auth = {"HTTP_AUTHORIZATION": f"Bearer {MEDIA_KEY}"}
    before = sample(scrape(client, **auth), "main_api_uploads_total", data_type="event", outcome="too_large")
    response = upload(user_client, event_image=("big.png", image_bytes("PNG", (400, 400)), "image/png"))
    assert response.status_code == 413
    after = sample(scrape(client, **auth), "main_api_uploads_total", data_type="event", outcome="too_large")
    assert after - before == 1
