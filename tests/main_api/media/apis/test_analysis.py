"""GET /api/media/similar/{media_id}: the owner or the media key, answered by a real local HTTP
server that speaks like the media VM's /similar."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient

from main_api.media.services.lifecycle import upload_complete
from tests.main_api.support import MEDIA_ID, OTHER_MEDIA_ID, client_for, make_pending, media_client

NEIGHBOUR = "abcdef0123456789abcdef0123456789"
SLOW = "5" * 32
BROKEN = "e" * 32


class FakeSimilar(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        self.requests.append({"path": url.path, "query": query})
        media_id = url.path.removeprefix("/similar/")
        if media_id == SLOW:
            time.sleep(1.5)
        if media_id == BROKEN:
            return self.send(500, b"oops", "text/plain")
        if media_id not in (MEDIA_ID, SLOW):
            return self.send(404, json.dumps({"message": "no fingerprint for this image", "extra": {}}).encode())
        body = {"media_id": media_id, "scope": query["scope"][0], "min_similarity": 0.9, "count": 1,
                "results": [{"media_id": NEIGHBOUR, "user_id": 1, "data_type": "profile", "similarity": 0.995,
                             "phash_distance": 1, "duplicate": True}]}
        return self.send(200, json.dumps(body).encode())

    def send(self, status, body, content_type="application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def media_vm(settings) -> Iterator[list[dict]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSimilar)
    server.daemon_threads = True
    FakeSimilar.requests = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    settings.MEDIA_BACKEND_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.MEDIA_PROXY_TIMEOUT = 0.5
    yield FakeSimilar.requests
    server.shutdown()
    server.server_close()


def processed(user, media_id=MEDIA_ID):
    image = make_pending(user)
    upload_complete(image_id=image.pk, media_id=media_id, permanent_url="", formats_available=[],
                                    sizes_available=[], ai_analysis={"phash": "0f0f0f0f0f0f0f0f"})
    return image


@pytest.mark.django_db
@pytest.mark.parametrize("keyword", ["Token", "Bearer"])
def test_the_owner_gets_the_nearest_of_their_images(artist, media_vm, keyword):
    processed(artist)
    response = client_for(artist, keyword).get(f"/api/media/similar/{MEDIA_ID}?limit=5")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True and body["count"] == 1 and body["scope"] == "user"
    (result,) = body["results"]
    assert result["media_id"] == NEIGHBOUR and result["duplicate"] is True
    assert result["url"] == f"https://cdn.example.test/api/images/{NEIGHBOUR}?size=thumbnail"
    (upstream,) = media_vm
    assert upstream["path"] == f"/similar/{MEDIA_ID}"
    assert upstream["query"] == {"limit": ["5"], "scope": ["user"]}


@pytest.mark.django_db
def test_another_user_gets_a_404_and_the_vm_is_not_asked(artist, make_user, media_vm):
    processed(artist)
    response = client_for(make_user("promoter")).get(f"/api/media/similar/{MEDIA_ID}")
    assert response.status_code == 404
    assert media_vm == []


@pytest.mark.django_db
def test_a_user_cannot_search_everyone(artist, media_vm):
    processed(artist)
    response = client_for(artist).get(f"/api/media/similar/{MEDIA_ID}?scope=all")
    assert response.status_code == 403
    assert media_vm == []


@pytest.mark.django_db
def test_the_media_key_may_search_everyone(artist, media_vm):
    processed(artist)
    response = media_client().get(f"/api/media/similar/{MEDIA_ID}?scope=all&min_similarity=0.5")
    assert response.status_code == 200
    assert media_vm[0]["query"] == {"limit": ["10"], "scope": ["all"], "min_similarity": ["0.5"]}


@pytest.mark.django_db
def test_no_credentials_is_401(artist, media_vm):
    processed(artist)
    assert APIClient().get(f"/api/media/similar/{MEDIA_ID}").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "min_similarity=2", "scope=world"])
def test_bad_parameters_are_400(artist, media_vm, query):
    processed(artist)
    response = client_for(artist).get(f"/api/media/similar/{MEDIA_ID}?{query}")
    assert response.status_code == 400
    assert set(response.json()) == {"success", "message", "extra"}
    assert media_vm == []


@pytest.mark.django_db
def test_unknown_or_unprocessed_images_are_404(artist, media_vm):
    make_pending(artist)  # pending, no media id yet
    assert media_client().get(f"/api/media/similar/{OTHER_MEDIA_ID}").status_code == 404
    assert media_client().get("/api/media/similar/not-a-media-id").status_code == 404
    assert media_vm == []


@pytest.mark.django_db
@pytest.mark.parametrize(("media_id", "status"), [(BROKEN, 502), (SLOW, 504), (NEIGHBOUR, 404)])
def test_vm_errors(artist, media_vm, media_id, status):
    processed(artist, media_id=media_id)
    response = media_client().get(f"/api/media/similar/{media_id}")
    assert response.status_code == status
    assert response.json()["extra"]["media_id"] == media_id


@pytest.mark.django_db
def test_vm_down_is_502(artist, settings):
    processed(artist)
    settings.MEDIA_BACKEND_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.MEDIA_PROXY_TIMEOUT = 0.5
    response = media_client().get(f"/api/media/similar/{MEDIA_ID}")
    assert response.status_code == 502
    assert response.json() == {"success": False, "message": "media backend unavailable",
                               "extra": {"media_id": MEDIA_ID}}
