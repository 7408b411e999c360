"""Bad requests end as the client's error, in JSON, over real HTTP: a JSON body nested 100 000
deep is a 400 (not a 500), a header the media VM refuses is its 4xx (not a 502 logged as an
error), writes to the read-only image URL are a JSON 405 (not Django's HTML CSRF page),
TRACE is a 405 on every path, and an unknown URL is a JSON 404 with DEBUG on too."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import requests

from main_api.media.models import Upload
from main_api.users.services import user_token_get
from tests.helpers.processes import ROOT, free_port, stop, wait_until
from tests.main_api.support import MEDIA_ID, MEDIA_KEY

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def token(make_user):
    return user_token_get(user=make_user("artist"))


def test_json_nested_100_000_deep_is_a_400(live_server, token):
    depth = 100_000
    r = requests.patch(f"{live_server.url}/users/me", data="[" * depth + "]" * depth,
                       headers={"Authorization": f"Token {token}", "Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 400, r.text[:300]
    assert r.json()["message"] == "JSON parse error - nested too deeply"
    assert Upload.objects.count() == 0


def test_json_nested_deep_to_a_key_endpoint_is_a_400_too(live_server):
    depth = 100_000
    r = requests.post(f"{live_server.url}/api/media/complete/1", data='{"a":' * depth + "1" + "}" * depth,
                      headers={"Authorization": f"Bearer {MEDIA_KEY}", "Content-Type": "application/json"},
                      timeout=30)
    assert r.status_code == 400 and "nested too deeply" in r.json()["message"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", [f"/api/images/{MEDIA_ID}", "/health", "/metrics"])
def test_writes_to_read_only_plain_views_are_a_json_405(live_server, method, path):
    r = requests.request(method, f"{live_server.url}{path}", data={"x": "1"}, timeout=10)
    assert r.status_code == 405, r.text[:300]
    assert r.headers["Content-Type"] == "application/json" and r.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert r.json()["message"] == "Method not allowed." and "CSRF" not in r.text


def test_options_on_the_image_url_names_its_methods(live_server):
    r = requests.options(f"{live_server.url}/api/images/{MEDIA_ID}", timeout=10)
    assert r.status_code == 200 and r.headers["Allow"] == "GET, HEAD, OPTIONS"


def raw_status(base: str, request_line: str, headers: str = "") -> str:
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(f"{request_line}\r\nHost: {url.netloc}\r\n{headers}Connection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer.decode("latin-1")


@pytest.mark.parametrize("path", ["/", "/health", "/users/me", f"/api/images/{MEDIA_ID}", "/admin/login/",
                                  "/api/media/pending/all", "/temp_images/profiles/x.jpg", "/nowhere"])
def test_trace_is_a_405_on_every_path(live_server, token, path):
    answer = raw_status(live_server.url, f"TRACE {path} HTTP/1.1",
                        f"Authorization: Token {token}\r\nX-Secret: echo-me\r\n")
    assert answer.startswith("HTTP/1.1 405"), answer[:300]
    assert "echo-me" not in answer and "application/json" in answer


# -- a 4xx of the media VM stays the client's error ---------------------------------------------


@pytest.fixture
def media_vm_process(settings, tmp_path):
    """The media VM's server as deployed (``python -m media_vm serve``: gunicorn), on a free port."""
    port = free_port()
    env = {**os.environ, "MEDIA_DATABASE_URL": f"sqlite:///{tmp_path / 'media.sqlite3'}",
           "MEDIA_STORAGE_ROOT": str(tmp_path / "media"), "MAIN_API_KEY": MEDIA_KEY,
           "GUNICORN_WORKERS": "1", "GUNICORN_ACCESSLOG": ""}
    log = open(tmp_path / "media-vm.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "media_vm", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.poll() is None, (tmp_path / "media-vm.log").read_text()
        try:
            return requests.get(f"{url}/health", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_until(up, timeout=60, what="the media VM server")
        settings.MEDIA_BACKEND_URL = url
        yield url
    finally:
        stop(proc, timeout=20)
        log.close()


@pytest.mark.parametrize("header", ["Accept", "If-None-Match"])
@pytest.mark.parametrize("size", [8_500, 16_000])
def test_a_header_the_vm_refuses_is_passed_on_as_its_4xx(live_server, media_vm_process, caplog, header, size):
    value = ("image/avif," if header == "Accept" else '"etag",') + "x" * size
    # the VM itself refuses it (gunicorn: 431 Request Header Fields Too Large)
    assert requests.get(f"{media_vm_process}/serve/{MEDIA_ID}", headers={header: value}, timeout=10).status_code == 431

    with caplog.at_level(logging.INFO):
        r = requests.get(f"{live_server.url}/api/images/{MEDIA_ID}?size=detail", headers={header: value}, timeout=10)
    assert r.status_code == 431, r.text[:300]
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"message": "the media backend refused the request: Request Header Fields Too Large",
                        "extra": {"media_id": MEDIA_ID, "upstream_status": 431}}
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR], caplog.text

    # and an ordinary request still goes through to the VM's own JSON 404
    ok = requests.get(f"{live_server.url}/api/images/{MEDIA_ID}?size=detail", timeout=10)
    assert ok.status_code == 404 and ok.json()["message"] == "no such image"


def test_a_json_body_over_the_memory_limit_is_a_413_json(live_server, artist):
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE that is not a file upload (a huge JSON bio) is
    a JSON 413, not a 400 with a logged traceback."""
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=artist).key
    body = '{"bio": "' + "x" * (3 * 1024 * 1024) + '"}'
    r = requests.patch(f"{live_server.url}/users/me", data=body, timeout=30,
                       headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
    assert r.status_code == 413, r.text[:300]
    assert r.json()["message"] == "request body too large" and r.json()["extra"]["max_bytes"] > 0


@pytest.mark.parametrize("path", ["/api/nowhere", "/api/artworks/12/nothing", "/users/me/extra", "/nowhere.php"])
def test_an_unknown_url_is_a_json_404_with_debug_on_too(client, settings, path):
    """``make run`` has DEBUG on: Django would answer its HTML debug page, not handler404."""
    for debug in (True, False):
        settings.DEBUG = debug
        answer = client.get(path)
        assert answer.status_code == 404, (debug, answer.content[:200])
        assert answer["Content-Type"] == "application/json", (debug, answer.content[:200])
        assert answer.json()["message"] == "Not found."


def test_a_found_pages_own_404_is_left_as_it_is(client, settings):
    settings.DEBUG = True
    answer = client.get("/artists/nobody-here")  # the demo site's page for an unknown artist
    assert answer.status_code == 404 and answer["Content-Type"].startswith("text/html")
    assert b"There is no artist of that name." in answer.content
