"""Artworks end to end with real processes: the main API (gunicorn, uvicorn workers), the media VM
server and a worker process, on loopback. A direct upload (the local signed PUT, and a presigned
POST to a bucket on the moto server with ``TEMP_STORAGE=s3``), the artwork's creation, its
processing, its three images fetched through ``/api/images`` and decoded (sizes; the display's
watermark found against an unmarked render and read by Tesseract), the public listing, the limit
under concurrent creates, and the deletion of everything."""

from __future__ import annotations

import threading
from pathlib import Path

import pyvips
import requests

from media_vm.imaging import make_variants
from tests.helpers import images
from tests.helpers.s3 import new_bucket
from tests.helpers.system import running_system
from tests.helpers.watermark import corner_and_rest, read_mark

ARTIST = "PainterAna42"  # letters and digits: what OCR reads back reliably through lossy encoders
FORMATS = ("avif", "webp", "jpeg")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def direct_upload(api_url: str, token: str, data: bytes, *, expect_method: str) -> str:
    """``POST /api/artworks/upload-url``, then the upload as a browser would make it; the key."""
    answer = requests.post(f"{api_url}/api/artworks/upload-url", headers=auth(token), timeout=30,
                           json={"filename": "work.jpg", "content_type": "image/jpeg", "size": len(data)})
    assert answer.status_code == 200, answer.text
    target = answer.json()
    assert target["method"] == expect_method, target
    if target["method"] == "PUT":  # the main API's signed URL: no token, no cookie
        sent = requests.put(target["upload_url"], data=data, headers={"Content-Type": "image/jpeg"}, timeout=30)
    else:  # straight to the bucket: the policy's fields first, the file last
        sent = requests.post(target["upload_url"], data=target["fields"],
                             files={"file": ("work.jpg", data, "image/jpeg")}, timeout=30)
    assert sent.status_code in (200, 201, 204), sent.text
    return str(target["key"])


def create(api_url: str, token: str, key: str, title: str = "Blue Hour") -> requests.Response:
    return requests.post(f"{api_url}/api/artworks", headers=auth(token), timeout=60, json={
        "title": title, "description": "Dusk over the harbour", "materials": "oil on linen",
        "dimensions": "60 x 80 cm", "created_date": "2024-05-01", "category": "painting", "tags": ["Sea", "dusk"],
    } | {"key": key})


def fetch(url: str, fmt: str) -> pyvips.Image:
    answer = requests.get(f"{url}&format={fmt}", timeout=60)
    assert answer.status_code == 200, (url, fmt, answer.text[:300])
    assert answer.headers["Content-Type"] == f"image/{fmt}"
    return pyvips.Image.new_from_buffer(answer.content, "")


def process(system) -> None:
    run = system.worker("--once")
    assert run.returncode == 0, run.stderr[-3000:]


def check_images(artwork: dict, original: Path, tmp: Path) -> None:
    """The three images of a processed artwork, every format: their sizes, the display's mark."""
    plain = {v.format: v for v in make_variants(original, tmp / "plain", stem="p", data_type="artwork")
             if v.size == "display"}
    for fmt in FORMATS:
        icon, thumbnail = fetch(artwork["icon_url"], fmt), fetch(artwork["thumbnail_url"], fmt)
        display = fetch(artwork["display_url"], fmt)
        assert (icon.width, icon.height) == (128, 128)
        assert (thumbnail.width, thumbnail.height) == (300, 300)
        assert (display.width, display.height) == (1200, 800), "inside 1200x1200, aspect kept"
        unmarked = pyvips.Image.new_from_file(str(plain[fmt].path))
        corner, rest = corner_and_rest(display, unmarked)
        # lossy encoders move every pixel a little (WebP ~2 levels here); the mark moves the corner far more
        assert corner > 3 and rest < min(3.0, corner / 3), (fmt, corner, rest)
        assert ARTIST.lower() in read_mark(display, unmarked).replace(" ", "").lower(), fmt


def test_an_artwork_from_direct_upload_to_its_watermarked_images_public_page_and_deletion(system, tmp_path):
    token = system.create_user(ARTIST, "artist")
    original = images.photo_jpeg(tmp_path / "work.jpg", 1500, 1000, seed=21)
    key = direct_upload(system.api_url, token, original.read_bytes(), expect_method="PUT")
    answer = create(system.api_url, token, key)
    assert answer.status_code == 201, answer.text
    artwork = answer.json()
    assert (artwork["slug"], artwork["status"], artwork["display_url"]) == ("blue-hour", "processing", None)
    assert create(system.api_url, token, key).status_code == 400, "a key is used once"

    process(system)
    artwork = requests.get(f"{system.api_url}/api/artworks/{artwork['id']}", headers=auth(token), timeout=30).json()
    assert artwork["status"] == "active", artwork
    media_id = artwork["upload"]["media_id"]
    assert artwork["display_url"] == f"{system.api_url}/api/images/{media_id}?size=display"
    [row] = [r for r in system.media_rows() if r["media_id"] == media_id]
    assert row["watermark"] == ARTIST
    check_images(artwork, original, tmp_path)
    # a public request for a bigger size than the artwork has gets the marked display, never more
    zoom = fetch(f"{system.api_url}/api/images/{media_id}?size=zoom", "jpeg")
    assert (zoom.width, zoom.height) == (1200, 800)

    public = requests.get(f"{system.api_url}/api/users/{ARTIST}/artworks", timeout=30)
    assert public.status_code == 200
    [listed] = public.json()["results"]
    assert (listed["slug"], listed["display_url"], listed["artist"]) == ("blue-hour", artwork["display_url"], ARTIST)
    detail = requests.get(f"{system.api_url}/api/users/{ARTIST}/artworks/blue-hour", timeout=30)
    assert detail.status_code == 200 and detail.json()["tags"] == ["sea", "dusk"]
    assert "temp_images" not in public.text + detail.text

    gone = requests.delete(f"{system.api_url}/api/artworks/{artwork['id']}", headers=auth(token), timeout=30)
    assert gone.status_code == 204
    process(system)  # the worker's pass erases what the media VM held of it
    assert [r for r in system.media_rows() if r["media_id"] == media_id] == []
    assert list(system.storage_root.rglob(f"*{media_id}*")) == []
    assert requests.get(artwork["display_url"], timeout=30).status_code == 404
    assert requests.get(f"{system.api_url}/api/users/{ARTIST}/artworks/blue-hour", timeout=30).status_code == 404
    assert list(system.temp_dir.rglob("*-artwork-*")) == [], "the temp original went too"


def test_the_limit_holds_under_concurrent_creates(system, tmp_path):
    token = system.create_user("racer", "artist")
    system.manage("shell", "-c", "from main_api.users.models import UserProfile; "
                  "UserProfile.objects.filter(user__username='racer').update(artwork_limit=2)")
    keys = [direct_upload(system.api_url, token, images.photo_jpeg(tmp_path / f"{n}.jpg", 200, 150, seed=40 + n)
                          .read_bytes(), expect_method="PUT") for n in range(6)]
    start = threading.Barrier(len(keys))
    statuses: list[int] = []

    def race(key: str) -> None:
        start.wait()
        statuses.append(create(system.api_url, token, key, title="Same Title").status_code)

    threads = [threading.Thread(target=race, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [201, 201, 429, 429, 429, 429], statuses
    mine = requests.get(f"{system.api_url}/api/artworks", headers=auth(token), timeout=30).json()["results"]
    assert sorted(a["slug"] for a in mine) == ["same-title", "same-title-2"]
    uploads = requests.get(f"{system.api_url}/api/uploads", headers=auth(token), timeout=30).json()["results"]
    assert len(uploads) == 2, "a refused create leaves no upload behind"


def test_with_s3_temp_storage_the_browser_posts_straight_to_the_bucket(tmp_path_factory, s3_endpoint):
    bucket = new_bucket(s3_endpoint, prefix="temp/")
    tmp = tmp_path_factory.mktemp("s3-system")
    with running_system(tmp, extra_env=bucket.temp_env) as system:
        token = system.create_user(ARTIST, "artist")
        original = images.photo_jpeg(tmp / "work.jpg", 1500, 1000, seed=22)
        key = direct_upload(system.api_url, token, original.read_bytes(), expect_method="POST")
        answer = create(system.api_url, token, key)
        assert answer.status_code == 201, answer.text
        assert [k for k in bucket.keys("") if "artworks/" in k], "the temp original waits in the bucket"
        process(system)
        artwork = requests.get(f"{system.api_url}/api/artworks/{answer.json()['id']}", headers=auth(token),
                               timeout=30).json()
        assert artwork["status"] == "active", artwork
        check_images(artwork, original, tmp)
        assert not [p for p in system.temp_dir.rglob("*") if p.is_file()], "nothing on the host's disk"


def test_a_put_bigger_than_declared_is_refused_on_the_wire_and_stores_nothing(system, tmp_path):
    token = system.create_user("overflow", "artist")
    data = images.photo_jpeg(tmp_path / "w.jpg", 300, 200, seed=50).read_bytes()
    answer = requests.post(f"{system.api_url}/api/artworks/upload-url", headers=auth(token), timeout=30,
                           json={"filename": "w.jpg", "content_type": "image/jpeg", "size": len(data)})
    target = answer.json()
    too_big = data + b"\0" * 100_000
    declared = requests.put(target["upload_url"], data=too_big, timeout=30)  # Content-Length says so
    assert declared.status_code == 413, declared.text
    chunked = requests.put(target["upload_url"], data=iter([too_big[i:i + 8192] for i in range(0, len(too_big), 8192)]),
                           timeout=30)  # no Content-Length: counted as it arrives
    assert chunked.status_code == 413, chunked.text
    assert create(system.api_url, token, target["key"]).status_code == 400, "nothing was stored"
    assert requests.put(target["upload_url"], data=data, timeout=30).status_code == 200, "the URL is still good"
    assert create(system.api_url, token, target["key"]).status_code == 201
