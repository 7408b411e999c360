"""Hostile input at the front door, over real HTTP: polyglots, bombs, broken files, huge
bodies, and the security defaults around the upload (CSRF, staff-only admin, keys)."""

from __future__ import annotations

import io
import re
import socket
import zipfile

import pytest
import requests
from PIL import Image

from tests.helpers import images
from tests.helpers.corpus import corpus_file, requires_corpus
from tests.helpers.served_api import push_until_answered


def jpeg_bytes(**save_kwargs) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "JPEG", **save_kwargs)
    return buf.getvalue()


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("shell.php", "<?php echo 1; ?>")
    return buf.getvalue()


def gif_with_frames(n: int) -> bytes:
    frames = [Image.new("RGB", (4, 4), (i % 256, (i * 7) % 256, 90)) for i in range(n)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=10)
    data = buf.getvalue()
    assert Image.open(io.BytesIO(data)).n_frames == n
    return data


MVG = b"push graphic-context\nviewbox 0 0 640 480\nfill 'url(https://x.test/a.jpg\"|ls \"-la)'\npop graphic-context\n"
MSL = b'<?xml version="1.0" encoding="UTF-8"?>\n<image>\n<read filename="/etc/passwd" />\n</image>\n'

REFUSED = {
    "php in a JPEG comment": ("avatar.jpg", jpeg_bytes(comment=b"<?php system($_GET['c']); ?>")),
    "html after a JPEG": ("avatar.jpg", jpeg_bytes() + b"<html><script>alert(1)</script></html>"),
    "zip after a JPEG": ("avatar.jpg", jpeg_bytes() + zip_bytes()),
    "MVG named .jpg": ("avatar.jpg", MVG),
    "MSL named .png": ("avatar.png", MSL),
    "text named .jpg": ("avatar.jpg", b"just some text, not an image\n" * 20),
    "600 animation frames": ("anim.gif", gif_with_frames(600)),
}


@pytest.fixture(scope="module")
def token(system):
    return system.create_user("mallory", "community")


def assert_refused(system, token, field, name, body, *, status=400):
    before = sorted(p.name for p in system.temp_dir.rglob("*") if p.is_file())
    r = system.upload(token, {field: (name, body)})
    assert r.status_code == status, (name, r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["extra"]["field"] == field and r.json()["message"]
    after = sorted(p.name for p in system.temp_dir.rglob("*") if p.is_file())
    assert after == before, "a refused upload leaves no file behind"
    return r.json()


@pytest.mark.parametrize("case", list(REFUSED))
def test_polyglots_and_non_images_are_refused(system, token, case):
    name, body = REFUSED[case]
    assert_refused(system, token, "product_image", name, body)


def test_a_plain_image_with_an_innocent_comment_is_accepted(system, token):
    r = system.upload(token, {"product_image": ("ok.jpg", jpeg_bytes(comment=b"shot on a sunny day"))})
    assert r.status_code == 200, r.text


def test_a_pixel_bomb_png_is_refused_from_its_header(system, token, tmp_path):
    bomb = images.pixel_bomb_png(tmp_path / "bomb.png").read_bytes()
    body = assert_refused(system, token, "product_image", "bomb.png", bomb)
    assert "20000x20000" in body["message"] and "limit" in body["message"]
    # cut after 2 KB of pixel data: a decode would find it truncated; the pixel limit is
    # judged from the header, before any pixel is decoded
    cut = assert_refused(system, token, "product_image", "bomb.png", bomb[:33 + 8 + 2048])
    assert cut["message"] == body["message"]


@requires_corpus
@pytest.mark.corpus
@pytest.mark.parametrize("name", ["17000x17000.avif", "truncated.jpg", "truncated.gif", "logo.svg",
                                  "truncated.svgz", "small.bmp", "favicon.ico"])
def test_corpus_files_refused_at_upload(system, token, name):
    body = assert_refused(system, token, "product_image", name, corpus_file(name).read_bytes())
    if name.startswith("17000"):
        assert "17000x17000" in body["message"]


@requires_corpus
@pytest.mark.corpus
def test_corpus_odd_files_end_processed_or_failed_with_a_reason(system, token):
    """looks-like-svg.webp is a real WebP (sniffing is not fooled); invalid_multiframe.gif is
    either refused at upload or fails on the VM with its reason; nothing crashes or hangs."""
    outcomes = {}
    for name in ("looks-like-svg.webp", "invalid_multiframe.gif"):
        r = system.upload(token, {"event_image": (name, corpus_file(name).read_bytes())})
        assert r.status_code in (200, 400), r.text
        outcomes[name] = r.status_code
    assert outcomes["looks-like-svg.webp"] == 200
    run = system.worker("--once", timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = {r["original_name"]: r for r in system.media_rows()}
    assert rows["looks-like-svg.webp"]["status"] == "done"
    if outcomes["invalid_multiframe.gif"] == 200:
        gif = rows["invalid_multiframe.gif"]
        assert gif["status"] == "failed" and gif["failure_reason"]


def test_a_huge_body_is_cut_off_early_not_buffered(system, token):
    """A client announcing and streaming 2 GB gets 413 long before the end, on a raw socket."""
    total = 2 * 1024**3
    head = (b"--xx\r\nContent-Disposition: form-data; name=\"product_image\"; filename=\"a.jpg\"\r\n"
            b"Content-Type: image/jpeg\r\n\r\n")
    request = (f"PATCH /users/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {token}\r\n"
               f"Content-Type: multipart/form-data; boundary=xx\r\nContent-Length: {total}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", system.api_port), timeout=30) as sock:
        sock.sendall(request + head)
        sent, answer = push_until_answered(sock, b"\xff" * (256 * 1024), total=total)
    assert sent < 64 * 1024**2, f"the server let {sent} bytes in before refusing"
    if answer:
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_admin_needs_a_staff_login_and_a_csrf_token(system):
    system.manage("shell", "-c", (
        "from main_api.users.models import User; "
        "User.objects.create_user('plain', password='pw-plain-123'); "
        "User.objects.create_superuser('boss', password='pw-boss-123')"))
    s = requests.Session()
    r = s.get(f"{system.api_url}/admin/media/upload/", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and "/admin/login/" in r.headers["Location"]

    def login(user, password):
        sess = requests.Session()
        page = sess.get(f"{system.api_url}/admin/login/", timeout=10)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        sess.post(f"{system.api_url}/admin/login/", data={"username": user, "password": password,
                  "csrfmiddlewaretoken": csrf, "next": "/admin/"}, headers={"Referer": f"{system.api_url}/admin/"},
                  timeout=10)
        return sess

    plain = login("plain", "pw-plain-123")
    r = plain.get(f"{system.api_url}/admin/media/upload/", allow_redirects=False, timeout=10)
    assert r.status_code == 302, "a non-staff user is not let in"
    boss = login("boss", "pw-boss-123")
    assert boss.get(f"{system.api_url}/admin/media/upload/", timeout=10).status_code == 200
    # a session-authenticated write without the CSRF token is refused
    r = boss.post(f"{system.api_url}/admin/media/upload/", data={"action": "retry", "_selected_action": "1"},
                  headers={"Referer": f"{system.api_url}/admin/"}, allow_redirects=False, timeout=10)
    assert r.status_code == 403


def test_the_media_key_never_reaches_a_log(system):
    """After every request above (and the worker runs), no process logged the key."""
    system.worker("--once", timeout=300)
    logs = "".join(system.log(name) for name in ("main-api", "media-vm"))
    assert logs, "the services wrote logs"
    assert system.key not in logs
    run = system.worker("--once", env={"LOG_LEVEL": "DEBUG"}, timeout=300)
    assert system.key not in run.stdout + run.stderr
