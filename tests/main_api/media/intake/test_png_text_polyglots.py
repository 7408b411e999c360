"""HTML in PNG text chunks, over real HTTP: refused with a 400 naming the field and the chunk,
whether the chunk is ``tEXt``, ``zTXt`` (compressed) or ``iTXt`` (compressed or not), with
nothing stored; XMP packets and ordinary text pass; the original of an accepted upload is
sent back byte for byte, as a download that no browser renders or runs."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
import requests

from main_api.media.models import Upload
from main_api.users.services import user_token_get
from tests.helpers.files import files_under
from tests.helpers.images import png_chunk, png_with_chunks

pytestmark = pytest.mark.django_db(transaction=True)

SVG = b"<svg/onload=alert(document.domain)>"
IMG = b"<img src=x onerror=alert(1)>"


def text(keyword: bytes, value: bytes) -> bytes:
    return png_chunk(b"tEXt", keyword + b"\x00" + value)


def ztext(keyword: bytes, value: bytes) -> bytes:
    return png_chunk(b"zTXt", keyword + b"\x00\x00" + zlib.compress(value))


def itext(keyword: bytes, value: bytes, *, compressed: bool) -> bytes:
    body = zlib.compress(value) if compressed else value
    flag = b"\x01" if compressed else b"\x00"
    return png_chunk(b"iTXt", keyword + b"\x00" + flag + b"\x00en\x00Comment\x00" + body)


def png(tmp_path: Path, *chunks: bytes) -> bytes:
    pixels = np.random.default_rng(5).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    return png_with_chunks(tmp_path / "upload.png", pixels, list(chunks)).read_bytes()


XMP = (b"<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?><x:xmpmeta xmlns:x='adobe:ns:meta/'>"
       b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description dc:title='sunset'/>"
       b"</rdf:RDF></x:xmpmeta><?xpacket end='w'?>")

REFUSED = {
    "svg in tEXt": (text(b"Comment", SVG), None),  # the raw scan may see it first
    "img onerror in tEXt": (text(b"Description", IMG), None),  # the raw scan may see it first
    "img onerror in zTXt": (ztext(b"Comment", IMG), "zTXt"),
    "svg in zTXt": (ztext(b"Title", b"a title " + SVG), "zTXt"),
    "script in zTXt": (ztext(b"Comment", b"<script>alert(1)</script>"), "zTXt"),
    "img onerror in iTXt": (itext(b"Comment", IMG, compressed=False), None),
    "img onerror in compressed iTXt": (itext(b"Comment", IMG, compressed=True), "iTXt"),
    "tag with a namespace and a handler": (ztext(b"Comment", b"<x:y tabindex=1 autofocus onfocus=alert(1)>"), "zTXt"),
    "javascript URL in compressed iTXt": (itext(b"URL", b"javascript:alert(1)", compressed=True), "iTXt"),
    "php in zTXt": (ztext(b"Comment", b"<?php system($_GET['c']); ?>"), "zTXt"),
}
ACCEPTED = {
    "plain comment": text(b"Comment", b"shot on a sunny day, 3 < 4 and 5 > 2"),
    "xmp packet in iTXt": itext(b"XML:com.adobe.xmp", XMP, compressed=False),
    "compressed xmp packet in iTXt": itext(b"XML:com.adobe.xmp", XMP, compressed=True),
    "stable diffusion prompt": text(b"parameters", b"a cat, <lora:catstyle:0.8>, masterpiece\nSteps: 20"),
    "compressed software name": ztext(b"Software", b"GIMP 2.10 (c) <3 -> <= 1.2"),
}


@pytest.fixture
def upload(live_server, make_user, temp_dir):
    token = user_token_get(user=make_user("artist"))

    def send(data: bytes, field: str = "product_image") -> requests.Response:
        return requests.patch(f"{live_server.url}/users/me", files={field: ("art.png", data, "image/png")},
                              headers={"Authorization": f"Token {token}"}, timeout=60)

    send.token = token  # type: ignore[attr-defined]
    return send


@pytest.mark.parametrize("case", list(REFUSED))
def test_html_in_a_png_text_chunk_is_refused_and_nothing_is_stored(upload, temp_dir, tmp_path, case):
    chunk, kind = REFUSED[case]
    r = upload(png(tmp_path, chunk))
    assert r.status_code == 400, (case, r.text[:300])
    body = r.json()
    assert body["message"] == "image carries active content (a polyglot file) and is refused"
    assert body["extra"]["field"] == "product_image" and body["extra"]["found"]
    if kind is not None:
        assert body["extra"]["chunk"] == kind and body["extra"]["keyword"]
    assert files_under(temp_dir) == [] and Upload.objects.count() == 0


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_xmp_and_ordinary_text_chunks_pass(upload, tmp_path, case):
    r = upload(png(tmp_path, ACCEPTED[case]))
    assert r.status_code == 200, (case, r.text[:300])
    assert Upload.objects.count() == 1


def test_a_zlib_bomb_in_a_text_chunk_is_refused(upload, temp_dir, tmp_path):
    bomb = ztext(b"Comment", b"a" * 64 * 1024 * 1024)  # 64 MiB of text in ~64 kB
    r = upload(png(tmp_path, bomb))
    assert r.status_code == 400 and r.json()["extra"]["max_text_bytes"] == 8 * 1024 * 1024
    assert files_under(temp_dir) == []


def test_the_original_comes_back_byte_for_byte_as_a_download_nothing_runs(live_server, upload, tmp_path):
    sent = png(tmp_path, ACCEPTED["compressed xmp packet in iTXt"], ACCEPTED["plain comment"])
    assert upload(sent).status_code == 200
    image = Upload.objects.get()
    r = requests.get(f"{live_server.url}{image.image_path}", headers={"Authorization": f"Token {upload.token}"},
                     timeout=10)
    assert r.status_code == 200 and r.content == sent
    assert r.headers["Content-Type"] == "image/png"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Disposition"].startswith("attachment;") and 'filename="art.png"' in r.headers[
        "Content-Disposition"]
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp
    assert r.headers["Cache-Control"] == "private, no-store"
