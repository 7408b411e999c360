"""The shipped nginx (``deploy/nginx/main_api.conf``, Debian's nginx) in front of a live system:
a deleted image stops being served within the 60 s nginx keeps it, and no credential (a stream
ticket, a signed direct-upload URL, a token) reaches any log the system or nginx writes.

One system and one nginx for the module. The image is cached and deleted first (the
``deleted_image`` fixture); the log test runs while the cached copy ages; the cache test then
waits for what is left of the 60 s.
"""

from __future__ import annotations

import re
import struct
import time

import pytest
import requests

from tests.helpers import images
from tests.helpers.nginx import SHIPPED, Nginx, shipped_nginx
from tests.helpers.system import running_system

# nginx's certificate is a self-signed one made for the test
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

#: What the shipped config promises: a cached image is revalidated after this many seconds.
NGINX_KEEPS_SECONDS = 60


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    # nginx on the same host: its X-Forwarded-For is believed; gunicorn's access log on
    with running_system(tmp_path_factory.mktemp("system"),
                        extra_env={"FORWARDED_ALLOW_IPS": "127.0.0.1", "GUNICORN_ACCESSLOG": "-"}) as s:
        yield s


@pytest.fixture(scope="module")
def nginx(system, tmp_path_factory):
    with shipped_nginx(tmp_path_factory.mktemp("nginx"), api_port=system.api_port,
                       static_root=system.tmp / "static") as server:
        yield server


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def cache_validity(nginx: Nginx) -> list[int]:
    """Seconds each entry of nginx's image cache is fresh for: ``valid_sec - date`` of the
    header of every cache file (``ngx_http_file_cache_header_t``: version, valid_sec,
    updating_sec, error_sec, last_modified, date; 8-byte words on 64-bit Linux)."""
    seconds = []
    for path in nginx.cache.rglob("*"):
        if path.is_file():
            _, valid_sec, _, _, _, date = struct.unpack("<6q", path.read_bytes()[:48])
            seconds.append(valid_sec - date)
    return seconds


@pytest.fixture(scope="module")
def deleted_image(system, nginx, tmp_path_factory):
    """An image served through nginx (cached), then deleted and erased by the media VM: its
    URL, the time nginx cached it, and the answers before and after the deletion."""
    token = system.create_user("nina", "artist")
    photo = images.photo_jpeg(tmp_path_factory.mktemp("img") / "photo.jpg", 900, 600, quality=85)
    assert system.upload(token, {"product_image": photo}).status_code == 200
    run = system.worker("--once")
    assert run.returncode == 0, run.stderr[-3000:]
    upload = requests.get(f"{system.api_url}/api/uploads", headers=auth(token), timeout=30).json()["results"][0]
    path = f"/api/images/{upload['media_id']}?size=small"
    first = nginx.get(path, headers={"Accept": "image/webp"})
    cached_at = time.monotonic()
    second = nginx.get(path, headers={"Accept": "image/webp"})
    gone = requests.delete(f"{system.api_url}/api/uploads/{upload['id']}", headers=auth(token), timeout=30)
    assert gone.status_code in (200, 204), gone.text
    run = system.worker("--once")  # erases what was deleted, then exits
    assert run.returncode == 0, run.stderr[-3000:]
    assert requests.get(f"{system.api_url}{path}", timeout=30).status_code == 404, "the API itself: gone"
    after_delete = nginx.get(path, headers={"Accept": "image/webp"})
    return {"path": path, "cached_at": cached_at, "answers": (first, second, after_delete)}


def test_no_credential_reaches_any_log(system, nginx, deleted_image):
    token = system.create_user("lena", "artist")
    secrets = [token]
    # a stream ticket, on the event stream (200, read a little) and on a path that does not exist (404)
    ticket = requests.post(f"{nginx.url}/api/uploads/events/ticket", headers=auth(token), verify=False,
                           timeout=30).json()["ticket"]
    secrets.append(ticket)
    with requests.get(f"{nginx.url}/api/uploads/events?ticket={ticket}", stream=True, verify=False,
                      timeout=30) as stream:
        assert stream.status_code == 200
        next(stream.iter_content(64))
    assert nginx.get(f"/api/uploads/event?ticket={ticket}").status_code == 404
    assert nginx.get(f"/api/uploads/events?ticket={ticket}x").status_code == 401
    # a signed direct-upload URL: used (200), used again (409), tampered with (403)
    data = images.image_bytes("JPEG", (320, 240))
    target = requests.post(f"{nginx.url}/api/artworks/upload-url", headers=auth(token), verify=False, timeout=30,
                           json={"filename": "w.jpg", "content_type": "image/jpeg", "size": len(data)}).json()
    signed_path = re.sub(r"^https?://[^/]+", "", target["upload_url"])
    signed = signed_path.split("/api/uploads/direct/", 1)[1].strip("/")
    secrets.append(signed)

    def put(path: str) -> requests.Response:
        return requests.put(f"{nginx.url}{path}", data=data, headers={"Content-Type": "image/jpeg"}, verify=False,
                            timeout=30)

    assert put(signed_path).status_code == 200
    assert put(signed_path).status_code == 409
    assert put(signed_path.replace(signed, signed[:-2] + ("AA" if not signed.endswith("AA") else "BB"))
               ).status_code in (400, 403)
    # the token: in a header, and in /login's token form
    assert nginx.get("/users/me", headers=auth(token)).status_code == 200
    with requests.Session() as s:
        page = s.get(f"{nginx.url}/login", verify=False, timeout=30)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        signed_in = s.post(f"{nginx.url}/login", data={"token": token, "csrfmiddlewaretoken": csrf},
                           headers={"Referer": f"{nginx.url}/login"}, allow_redirects=False, verify=False, timeout=30)
        assert signed_in.status_code == 302, signed_in.text[:500]

    time.sleep(0.5)  # nginx writes its access line when the answer is done
    logs = {f"nginx: {p.name}": p.read_text(errors="replace") for p in nginx.logs.glob("*") if p.is_file()}
    logs.update({f"system: {p.name}": p.read_text(errors="replace") for p in system.logs.glob("*")})
    for name, text in logs.items():
        for secret in secrets:
            assert secret not in text, f"a credential in {name}"
    # and the requests were logged, redacted, by nginx and by gunicorn
    assert "/api/uploads/events?ticket=[redacted]" in logs["nginx: oaf_main_api.access.log"]
    assert "/api/uploads/direct/[redacted]" in logs["nginx: oaf_main_api.access.log"]
    assert "/api/uploads/direct/[redacted]" in logs["system: main-api.log"]


def test_the_shipped_nginx_keeps_an_image_60_s_then_a_deleted_one_is_a_404(nginx, deleted_image):
    first, second, after_delete = deleted_image["answers"]
    assert first.status_code == 200 and first.headers["X-Cache-Status"] == "MISS"
    assert second.status_code == 200 and second.headers["X-Cache-Status"] == "HIT"
    assert second.headers["Cache-Control"] == "public, max-age=3600", "browsers keep the contract's hour"
    assert cache_validity(nginx) == [NGINX_KEEPS_SECONDS], "what nginx itself recorded for the entry"
    # deleted, and nginx still has it: served from the cache until its 60 s are up
    assert after_delete.status_code == 200 and after_delete.headers["X-Cache-Status"] == "HIT"

    left = deleted_image["cached_at"] + NGINX_KEEPS_SECONDS + 1 - time.monotonic()
    time.sleep(max(0.0, left))
    expired = nginx.get(deleted_image["path"], headers={"Accept": "image/webp"})
    assert expired.status_code == 404, (expired.status_code, expired.headers)

    # what the shipped file says, for a reader of this test
    config = SHIPPED.read_text()
    images_location = config.split("location /api/images/", 1)[1].split("}", 1)[0]
    assert "proxy_ignore_headers Cache-Control Expires" in images_location
    assert f"proxy_cache_valid 200 {NGINX_KEEPS_SECONDS}s;" in images_location
    assert "proxy_cache_revalidate on;" in images_location
