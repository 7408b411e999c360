"""The demo site's Content-Security-Policy without a browser (``main_api/frontend/csp.py``): every
page sends it, no page needs what it forbids (an inline script, a style attribute, an event
handler attribute, a ``<style>`` element), the API and the admin are left alone, and the origins
it names are the ones the pages really use (the smart URLs' host, the bucket of a direct upload).
``tests/browser/test_demo_site.py`` proves in Chromium that no page breaks it."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from main_api.frontend.csp import HEADER
from main_api.settings import temp_storage_config
from tests.main_api import support
from tests.main_api.artworks.test_artworks import new_artwork
from tests.main_api.frontend.test_frontend import processed as upload_processed
from tests.main_api.frontend.test_frontend_artworks import PLACEHOLDER
from tests.main_api.frontend.test_frontend_artworks import processed as artwork_processed

pytestmark = pytest.mark.django_db


class InlineCode(HTMLParser):
    """What a policy without ``'unsafe-inline'`` refuses: ``<script>`` without ``src``, ``<style>``,
    ``style=`` and ``on...=`` attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.img_count = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        self.img_count += tag == "img"
        self.found += [f"<{tag} {name}=...>" for name in names if name == "style" or name.startswith("on")]


@pytest.fixture
def site(artist, user_client, temp_dir):
    """The artist signed in to a session, with a processed upload of their own and an active
    artwork, both with a placeholder colour."""
    upload_processed(artist, ai_analysis={"placeholder": PLACEHOLDER, "width": 1200, "height": 800})
    artwork = new_artwork(user_client, seed=1, title="Blue Hour")
    artwork_processed(artwork, support.OTHER_MEDIA_ID)
    session = Client()
    session.force_login(artist)
    return {"artist": artist, "session": session, "slug": artwork["slug"]}


def demo_pages(site) -> dict[str, tuple[int, str]]:
    """Every page the demo site serves, as a browser sees it: name -> (status, HTML)."""
    name, session, anonymous = site["artist"].username, site["session"], Client()
    answers = {
        "login": anonymous.get("/login"),
        "login refused": anonymous.post("/login", {"username": name, "password": "wrong"}),
        "home": session.get("/"),
        "artworks": session.get("/artworks"),
        "artist": anonymous.get(f"/artists/{name}"),
        "artwork": anonymous.get(f"/artists/{name}/{site['slug']}"),
        "no such artist": anonymous.get("/artists/nobody-here"),
        "no such artwork": anonymous.get(f"/artists/{name}/no-such-slug"),
    }
    return {page: (r.status_code, r) for page, r in answers.items()}


def test_every_demo_page_and_only_those_sends_the_policy(site):
    for page, (status, response) in demo_pages(site).items():
        assert status == {"login refused": 400, "no such artist": 404, "no such artwork": 404}.get(page, 200), page
        csp = response.get(HEADER, "")
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";")) if csp else {}
        assert directives.get("default-src") == "'self'", (page, csp)
        assert directives.get("img-src", "").startswith("'self' data:"), (page, csp)
        assert directives.get("object-src") == "'none'" and directives.get("frame-ancestors") == "'none'", (page, csp)
        assert "unsafe" not in csp and "*" not in csp, (page, csp)
    # the API's JSON and the admin (Django's own, with its inline scripts) are left alone
    token = support.client_for(site["artist"])
    for response in (token.get("/api/uploads"), Client().get("/admin/login/"), Client().get("/health")):
        assert HEADER not in response, response.request["PATH_INFO"]


def test_no_demo_page_has_an_inline_script_or_style(site):
    for page, (_status, response) in demo_pages(site).items():
        parser = InlineCode()
        parser.feed(response.content.decode())
        assert parser.found == [], page
        if page in ("home", "artworks", "artist", "artwork"):
            assert parser.img_count, page  # pictures with their placeholder colour were on the page
    # the colour is still in the no-JavaScript picture, as data for the style sheet
    artist = demo_pages(site)["artist"][1].content.decode()
    assert f'data-dominant-color="{PLACEHOLDER["dominant_color"]}"' in artist


def test_the_policy_names_the_smart_urls_host_and_the_direct_upload_bucket(site, settings):
    settings.SMART_MEDIA_BASE_URL = "https://media.example.org/api/images"
    settings.STORAGES = {**settings.STORAGES, "temp_images": temp_storage_config({
        "TEMP_STORAGE": "s3", "TEMP_S3_BUCKET": "originals", "TEMP_S3_ENDPOINT_URL": "https://s3.example.test:9000",
        "TEMP_S3_REGION": "us-east-1", "TEMP_S3_ACCESS_KEY_ID": "id", "TEMP_S3_SECRET_ACCESS_KEY": "secret",
        "TEMP_S3_ADDRESSING_STYLE": "path"})}
    pages = demo_pages(site)
    for page, (_status, response) in pages.items():
        directives = dict(d.strip().split(" ", 1) for d in response[HEADER].split(";"))
        # the srcsets' absolute smart URLs: this API's /api/images under its public name
        assert directives["img-src"] == "'self' data: https://media.example.org", page
        # the artworks page posts the file to the bucket (a presigned POST); no other page sends anything out
        expected = "'self' https://s3.example.test:9000" if page == "artworks" else "'self'"
        assert directives["connect-src"] == expected, page
    assert "https://media.example.org/api/images/" in pages["artist"][1].content.decode()
