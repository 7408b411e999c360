"""One request id from the upload, through the media VM worker's steps, to the callback.

Real processes: the main API under gunicorn and a media VM worker, both logging JSON (the
production default). Also the media VM's log format on its own.
"""

from __future__ import annotations

import json
import logging

import pytest
import requests

from media_vm import logging_setup
from tests.helpers import images
from tests.helpers.processes import wait_until
from tests.helpers.system import running_system

REQUEST_ID = "trace-upload-0123456789"


def json_lines(text: str) -> list[dict]:
    entries = []
    for line in text.splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))
    return entries


def test_the_upload_request_id_reaches_every_step_and_comes_back_on_the_callback(tmp_path):
    with running_system(tmp_path) as system:
        token = system.create_user("trace", "artist")
        photo = images.photo_jpeg(tmp_path / "p.jpg", 400, 300)
        response = requests.patch(
            f"{system.api_url}/users/me", files={"profile_image": ("p.jpg", photo.read_bytes(), "image/jpeg")},
            headers={"Authorization": f"Token {token}", "X-Request-ID": REQUEST_ID}, timeout=30,
        )
        assert response.status_code == 200 and response.headers["X-Request-ID"] == REQUEST_ID
        [item] = system.pending()
        assert item["request_id"] == REQUEST_ID

        run = system.worker("--once", env={"LOG_FORMAT": "json"})
        assert run.returncode == 0, run.stderr[-3000:]

        [row] = system.media_rows()
        worker_lines = json_lines(run.stderr)
        steps = [e for e in worker_lines if " step " in e["message"] and "attempt" in e["message"]]
        assert [e["message"].split(" step ")[1].split()[0] for e in steps] == [
            "retrieve_file", "make_thumbnail", "ai_visual_analysis", "resize_optimize", "update_callback"]
        for entry in steps:
            assert entry["request_id"] == REQUEST_ID and entry["job_id"] == row["media_id"], entry
            assert entry["service"] == "media_vm" and entry["level"] == "INFO"
        done = [e for e in worker_lines if "done (media_id" in e["message"]]
        assert done and done[0]["request_id"] == REQUEST_ID

        # the callback carried the id back: the main API logged the completion under it
        def completion():
            lines = json_lines(system.log("main-api"))
            return [e for e in lines if "processed as media" in e["message"]]

        [logged] = wait_until(completion, timeout=10, what="the main API's completion log line")
        assert logged["request_id"] == REQUEST_ID and logged["service"] == "main_api"
        assert row["media_id"] in logged["message"]


def test_media_vm_json_lines_carry_the_job():
    record = logging.makeLogRecord({"name": "media_vm.worker", "levelname": "INFO", "levelno": 20,
                                    "msg": "step %s", "args": ("resize_optimize",)})
    with logging_setup.job_context(job_id="ab" * 16, request_id="req-0000000001"):
        logging_setup.JobFilter().filter(record)
    entry = json.loads(logging_setup.JsonFormatter().format(record))
    assert entry == {**entry, "message": "step resize_optimize", "job_id": "ab" * 16,
                     "request_id": "req-0000000001", "service": "media_vm", "logger": "media_vm.worker"}
    outside = logging.makeLogRecord({"msg": "idle"})
    logging_setup.JobFilter().filter(outside)
    assert (outside.job_id, outside.request_id) == ("-", "-")
    assert "job_id" not in json.loads(logging_setup.JsonFormatter().format(outside))


@pytest.mark.parametrize(("env", "expected"), [({}, "json"), ({"DJANGO_ENV": "dev"}, "text"),
                                               ({"LOG_FORMAT": "text"}, "text"),
                                               ({"DJANGO_ENV": "dev", "LOG_FORMAT": "json"}, "json")])
def test_media_vm_log_format_default(monkeypatch, env, expected):
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    monkeypatch.delenv("DJANGO_ENV", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert logging_setup.default_format() == expected
