"""What the media VM's server tells whom, over real HTTP on loopback: ``/serve`` and a bare
``/health`` to anyone; ``/similar``, ``/metrics`` and the detail of ``/health`` to a media key
only (any key of ``MAIN_API_KEY``, so a rotation works); ``TRACE`` refused everywhere; every
answer with ``X-Content-Type-Options: nosniff``."""

from __future__ import annotations

import socket
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
import requests

from media_vm.config import Settings
from media_vm.http import MediaApp
from tests.helpers.wsgi import serving
from tests.media_vm.test_similarity import NEAR, add

NEW_KEY, OLD_KEY = "vm-key-new-0123456789", "vm-key-old-9876543210"


@pytest.fixture
def vm(media_db_url, tmp_path):
    """The VM's server with two users' fingerprinted images, accepting two keys (mid-rotation)."""
    app = MediaApp(replace(Settings(), database_url=media_db_url, storage_root=tmp_path / "media",
                           main_api_keys=(NEW_KEY, OLD_KEY)))
    mine, _ = add(app.repo, 1, user_id=7)
    theirs, _ = add(app.repo, 2, user_id=8, sha="e" * 64, embedding=NEAR)
    try:
        with serving(app) as base:
            yield base, mine["media_id"], theirs["media_id"]
    finally:
        app.engine.dispose()


def key(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_similar_across_users_needs_a_media_key(vm):
    base, mine, theirs = vm
    url = f"{base}/similar/{mine}?scope=all"
    for headers in ({}, key("not-the-key"), {"Authorization": f"Token {NEW_KEY}"}, {"Authorization": NEW_KEY}):
        r = requests.get(url, headers=headers, timeout=10)
        assert r.status_code == 401, (headers, r.text)
        assert r.headers["WWW-Authenticate"] == 'Bearer realm="media"'
        assert set(r.json()) == {"message", "extra"} and theirs not in r.text and '"user_id"' not in r.text
    # either key of the list: the main API may still send the old one while the VM has the new one
    for value in (NEW_KEY, OLD_KEY):
        r = requests.get(url, headers=key(value), timeout=10)
        assert r.status_code == 200 and [x["media_id"] for x in r.json()["results"]] == [theirs]


def test_metrics_need_a_media_key(vm):
    base, _, _ = vm
    anonymous = requests.get(f"{base}/metrics", timeout=10)
    assert anonymous.status_code == 401 and "media_vm_jobs" not in anonymous.text
    r = requests.get(f"{base}/metrics", headers=key(OLD_KEY), timeout=10)
    assert r.status_code == 200 and 'media_vm_jobs{state="done"} 2.0' in r.text


def test_health_tells_anyone_its_status_and_a_key_its_detail(vm):
    base, _, _ = vm
    anonymous = requests.get(f"{base}/health", timeout=10)
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "ok"}
    detailed = requests.get(f"{base}/health", headers=key(NEW_KEY), timeout=10)
    assert detailed.json() == {"status": "ok", "database": "ok", "storage": "ok"}


def test_serve_stays_public(vm):
    base, mine, _ = vm
    r = requests.get(f"{base}/serve/{mine}?size=detail", timeout=10)
    assert r.status_code == 404 and r.json()["message"] == "no such image"  # no variants: not a 401


def test_a_vm_without_keys_answers_only_serve_and_health(media_db_url, tmp_path):
    app = MediaApp(replace(Settings(), database_url=media_db_url, storage_root=tmp_path / "media"))
    try:
        with serving(app) as base:
            assert requests.get(f"{base}/metrics", headers=key(""), timeout=10).status_code == 401
            assert requests.get(f"{base}/metrics", headers={"Authorization": "Bearer "}, timeout=10).status_code == 401
            assert requests.get(f"{base}/health", timeout=10).json() == {"status": "ok"}
    finally:
        app.engine.dispose()


def raw(base: str, request_line: str, headers: str = "") -> tuple[str, str]:
    """Sends one request as written; the status line and the lower-cased header block."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(f"{request_line}\r\nHost: {url.netloc}\r\n{headers}Connection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    return head.split("\r\n", 1)[0], head.lower()


@pytest.mark.parametrize("path", ["/health", "/metrics", "/serve/" + "0" * 32, "/similar/" + "0" * 32, "/nowhere"])
def test_trace_is_refused_on_every_path(vm, path):
    base, _, _ = vm
    status, head = raw(base, f"TRACE {path} HTTP/1.1", f"Authorization: Bearer {NEW_KEY}\r\nX-Secret: 1\r\n")
    assert status.split()[1] == "405", status
    assert "x-secret" not in head


def test_every_answer_says_nosniff(vm):
    """Error bodies echo the request (a path, a parameter): no browser may take them for HTML."""
    base, mine, _ = vm
    answers = [
        requests.get(f"{base}/<script>alert(1)</script>", timeout=10),  # 404 echoing the path
        requests.get(f"{base}/serve/{mine}?size=<svg onload=alert(1)>", timeout=10),  # 400
        requests.get(f"{base}/serve/{mine}", timeout=10),  # 404
        requests.post(f"{base}/health", timeout=10),  # 405
        requests.get(f"{base}/metrics", timeout=10),  # 401
        requests.get(f"{base}/health", timeout=10),  # 200
        requests.get(f"{base}/metrics", headers=key(NEW_KEY), timeout=10),  # 200, text
    ]
    assert [r.status_code for r in answers] == [404, 400, 404, 405, 401, 200, 200]
    for r in answers:
        assert r.headers.get("X-Content-Type-Options") == "nosniff", (r.url, r.status_code)
