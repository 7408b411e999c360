"""GET /api/images/{media_id}: streamed from a real local HTTP server speaking like /serve."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from tests.helpers.images import decoded_size, image_bytes
from tests.main_api.support import MEDIA_ID, OTHER_MEDIA_ID

SLOW_MEDIA_ID = "5" * 32
BROKEN_MEDIA_ID = "e" * 32
SIGNED_MEDIA_ID = "7" * 32
SIGNED_URL = "https://bucket.example.org/library/user_1/artwork/img/x_detail.webp?X-Amz-Signature=abc"
BODY = image_bytes("WEBP", (300, 200))
ETAG = '"v1-abc"'


class FakeServe(BaseHTTPRequestHandler):
    """The media VM's /serve, as far as the proxy can tell."""

    requests: list[dict] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._answer(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(with_body=False)

    def _answer(self, *, with_body: bool) -> None:
        url = urlsplit(self.path)
        self.requests.append({"method": self.command, "path": url.path, "query": parse_qs(url.query),
                              "headers": dict(self.headers)})
        media_id = url.path.removeprefix("/serve/")
        if media_id == SLOW_MEDIA_ID:
            time.sleep(1.5)
        if media_id == BROKEN_MEDIA_ID:
            return self._send(500, "text/plain", b"Internal Server Error", with_body)
        if media_id == SIGNED_MEDIA_ID:  # a VM on object storage with MEDIA_S3_SERVE=redirect
            self.send_response(302)
            self.send_header("Location", SIGNED_URL)
            self.send_header("Cache-Control", "private, max-age=1800")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if media_id != MEDIA_ID:
            return self._send(404, "application/json", json.dumps({"error": "unknown media id"}).encode(), with_body)
        if parse_qs(url.query).get("size") == ["gigantic"]:
            return self._send(400, "application/json", b'{"error": "bad size"}', with_body)
        if self.headers.get("If-None-Match") == ETAG:
            self.send_response(304)
            self.send_header("ETag", ETAG)
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")
            self.end_headers()
            return None
        extra = {"ETag": ETAG, "Last-Modified": "Wed, 21 Oct 2026 07:28:00 GMT", "X-Internal": "secret"}
        return self._send(200, "image/webp", BODY, with_body, extra)

    def _send(self, status, content_type, body, with_body, extra=None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "public, max-age=31536000, immutable")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def media_vm(settings, db) -> Iterator[list[dict]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeServe)
    server.daemon_threads = True
    FakeServe.requests = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    settings.MEDIA_BACKEND_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.MEDIA_PROXY_TIMEOUT = 0.5
    yield FakeServe.requests
    server.shutdown()
    server.server_close()


def content_of(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def test_an_image_is_streamed_with_its_headers(media_vm):
    response = Client().get(
        f"/api/images/{MEDIA_ID}?size=grid&format=webp&bg=removed&junk=1",
        HTTP_ACCEPT="image/avif,image/webp",
    )

    assert response.status_code == 200
    assert response.streaming
    body = content_of(response)
    assert body == BODY and decoded_size(body) == (300, 200)
    assert response["Content-Type"] == "image/webp"
    assert response["Content-Length"] == str(len(BODY))
    assert response["ETag"] == ETAG
    assert response["Last-Modified"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["Vary"] == "Accept"
    assert "X-Internal" not in response
    (upstream,) = media_vm
    assert upstream["path"] == f"/serve/{MEDIA_ID}"
    assert upstream["query"] == {"size": ["grid"], "format": ["webp"], "bg": ["removed"]}
    assert upstream["headers"]["Accept"] == "image/avif,image/webp"


def test_a_logo_whose_owner_removed_its_background_is_served_so_unless_bg_is_given(media_vm, make_user,
                                                                                  main_api_settings):
    from tests.main_api.support import client_for, complete_payload, make_pending, media_client

    owner = make_user("artist")
    logo = make_pending(owner, "logo_image", fmt="PNG")
    media_client().post(f"/api/media/complete/{logo.pk}", complete_payload(MEDIA_ID), format="json")
    client_for(owner).patch(f"/api/uploads/{logo.pk}", {"background": "removed"}, format="json")

    content_of(Client().get(f"/api/images/{MEDIA_ID}?size=grid"))
    content_of(Client().get(f"/api/images/{MEDIA_ID}?size=grid&bg=original"))
    assert [r["query"] for r in media_vm] == [{"size": ["grid"], "bg": ["removed"]},
                                             {"size": ["grid"], "bg": ["original"]}]


def test_a_conditional_request_is_answered_304(media_vm):
    response = Client().get(
        f"/api/images/{MEDIA_ID}", HTTP_IF_NONE_MATCH=ETAG, HTTP_IF_MODIFIED_SINCE="Wed, 21 Oct 2026 07:28:00 GMT"
    )
    assert response.status_code == 304
    assert content_of(response) == b""
    assert response["ETag"] == ETAG and response["Cache-Control"] == "public, max-age=3600"
    assert media_vm[0]["headers"]["If-None-Match"] == ETAG
    assert media_vm[0]["headers"]["If-Modified-Since"] == "Wed, 21 Oct 2026 07:28:00 GMT"


def test_head_passes_the_headers_without_a_body(media_vm):
    response = Client().head(f"/api/images/{MEDIA_ID}")
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(BODY)) and content_of(response) == b""
    assert media_vm[0]["method"] == "HEAD"


def test_upstream_404_and_400_pass_through(media_vm):
    response = Client().get(f"/api/images/{OTHER_MEDIA_ID}")
    assert response.status_code == 404
    assert json.loads(content_of(response)) == {"error": "unknown media id"}
    assert response["Cache-Control"] == "no-cache"

    response = Client().get(f"/api/images/{MEDIA_ID}?size=gigantic")
    assert response.status_code == 400


def test_a_redirect_to_a_signed_url_is_passed_on_with_the_vms_cache_lifetime(media_vm):
    response = Client().get(f"/api/images/{SIGNED_MEDIA_ID}?size=detail", HTTP_ACCEPT="image/webp")

    assert response.status_code == 302
    assert response["Location"] == SIGNED_URL
    assert response["Cache-Control"] == "private, max-age=1800"  # not the shared hour a 200 gets
    assert response["Vary"] == "Accept"
    assert content_of(response) == b""
    assert len(media_vm) == 1  # the proxy did not follow it: the browser fetches from the store


def test_an_upstream_error_becomes_502(media_vm):
    response = Client().get(f"/api/images/{BROKEN_MEDIA_ID}")
    assert response.status_code == 502
    assert response.json() == {
        "message": "media backend error",
        "extra": {"media_id": BROKEN_MEDIA_ID, "upstream_status": 500},
    }


@pytest.mark.parametrize("media_id", ["not-a-media-id", MEDIA_ID.upper(), "a" * 31, "..%2F..%2Fadmin"])
def test_an_invalid_media_id_is_404_without_asking_upstream(media_id, media_vm):
    response = Client().get(f"/api/images/{media_id}")
    assert response.status_code == 404
    # a path ("..%2F") matches no route: the unknown URL's 404; a malformed id the unknown image's
    assert response.json()["message"] == ("Not found." if "%2F" in media_id else "no such image")
    assert media_vm == []


def test_a_media_vm_that_is_down_gives_502(settings, db, caplog):
    """And it is logged as an error: the VM being down is ours to fix, not the client's doing
    (unlike a URL import's 502, a warning)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.MEDIA_BACKEND_URL = f"http://127.0.0.1:{port}"
    response = Client().get(f"/api/images/{MEDIA_ID}")
    assert response.status_code == 502
    assert response.json() == {"message": "media backend unavailable", "extra": {"media_id": MEDIA_ID}}
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "django.request"] == [
        ("ERROR", f"Bad Gateway: /api/images/{MEDIA_ID}")]


def test_a_media_vm_that_is_too_slow_gives_504(media_vm):
    response = Client().get(f"/api/images/{SLOW_MEDIA_ID}")  # the VM answers after 1.5 s; the proxy waits 0.5
    assert response.status_code == 504
    assert response.json()["message"] == "media backend timed out"


def test_only_get_and_head(media_vm):
    assert Client().post(f"/api/images/{MEDIA_ID}").status_code == 405
    assert media_vm == []
