"""The demo site's artwork pages without a browser: the signed-in artworks page (the form with
the configured categories, the list with each status, the no-JavaScript forms) and the public
pages of an artist (a grid of active artworks, one artwork's page with its watermarked display
image), their 404s, and that no temp path, original or unwatermarked size reaches public HTML.
``tests/browser/test_demo_site.py`` creates an artwork through the form in Chromium."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from main_api.artworks.models import Artwork
from main_api.frontend import views
from tests.main_api import support
from tests.main_api.artworks.test_artworks import new_artwork

pytestmark = pytest.mark.django_db

PLACEHOLDER = {"thumbhash": "YJqGPQw7sFlslqhFafSE+Q6oJ1h2iHB2Rw==", "dominant_color": "#3a5a7c"}


def variant(size: str, fmt: str, width: int, height: int) -> dict:
    return {"size": size, "format": fmt, "bg": "original", "width": width, "height": height, "bytes": 1234}


#: what the media VM reports for an artwork's image (and, with a source tool, its preset outputs)
ARTWORK_VARIANTS = [variant(size, fmt, w, h) for size, (w, h) in
                    {"icon": (128, 128), "thumbnail": (300, 300), "display": (1200, 800)}.items()
                    for fmt in ("avif", "webp", "jpeg")]
PRESET_VARIANTS = [variant("normal", "jpeg", 1024, 683), variant("hq", "jpeg", 2048, 1365)]


def processed(artwork: dict, media_id: str = support.MEDIA_ID, *, presets: bool = False) -> None:
    """The media VM's completion of the artwork's image: its sizes with their pixels, a placeholder."""
    payload = support.complete_payload(
        media_id, sizes_available=["icon", "thumbnail", "display"],
        variants=ARTWORK_VARIANTS + (PRESET_VARIANTS if presets else []),
        ai_analysis={"placeholder": PLACEHOLDER, "width": 1200, "height": 800})
    answer = support.media_client().post(f"/api/media/complete/{artwork['upload']['id']}", payload, format="json")
    assert answer.status_code == 200, answer.content


@pytest.fixture
def owner(artist, user_client):
    """The artist, signed in to a session (``.session``), with their token client (``.api``)."""
    session = Client()
    session.force_login(artist)
    artist.session, artist.api = session, user_client
    return artist


@pytest.fixture
def gallery(owner):
    """Four artworks of ``owner``: active (with every field), hidden, still processing, failed."""
    active = new_artwork(owner.api, seed=1, title="Blue Hour", description="Dusk over the harbour",
                         materials="oil on linen", dimensions="60 x 80 cm", created_date="2024-05-01",
                         tags=["Sea", "dusk"])
    processed(active)
    hidden = new_artwork(owner.api, seed=2, title="Kept Back")
    processed(hidden, support.OTHER_MEDIA_ID)
    assert owner.api.patch(f"/api/artworks/{hidden['id']}", {"hidden": True}, format="json").status_code == 200
    processing = new_artwork(owner.api, seed=3, title="Still Drying")
    failed = new_artwork(owner.api, seed=4, title="Broken Frame")
    assert support.media_client().delete(f"/api/media/cleanup/{failed['upload']['id']}", {"reason": "decode failed"},
                                         format="json").status_code == 200
    return {"active": active, "hidden": hidden, "processing": processing, "failed": failed}


# --- the signed-in artworks page ----------------------------------------------------------------


def test_the_artworks_page_asks_to_sign_in_and_is_linked_from_the_navigation(owner):
    response = Client().get("/artworks")
    assert response.status_code == 302 and response["Location"].startswith("/login")
    home = owner.session.get("/").content.decode()
    assert '<a href="/artworks">Artworks</a>' in home
    assert f'href="/artists/{owner.username}">Public page</a>' in home


def test_the_form_offers_the_configured_categories_and_the_source_tools(owner, settings):
    settings.ARTWORK_CATEGORIES = ["painting", "mixed-media", "glass"]
    page = owner.session.get("/artworks").content.decode()
    select = re.search(r'<select id="artwork-category" name="category" required>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'<option value="([^"]+)">([^<]+)</option>', select) == [
        ("painting", "Painting"), ("mixed-media", "Mixed media"), ("glass", "Glass")]
    tools = re.search(r'<select id="artwork-tool" name="source_tool">(.*?)</select>', page, re.S).group(1)
    assert '<option value="">' in tools and '<option value="dall-e">' in tools
    # every input has its label, and the script is served under a versioned URL
    for name in ("file", "title", "tags", "description", "materials", "dimensions", "created_date"):
        field_id = re.search(rf'id="([^"]+)" name="{name}"', page).group(1)
        assert f'<label for="{field_id}">' in page, name
    assert re.search(r'<script type="module" src="/static/frontend/artworks\.js\?v=[0-9a-f]{12}">', page)
    assert 'aria-current="page">Artworks</a>' in page


def test_the_page_lists_your_artworks_with_their_status_and_not_others(owner, gallery, make_user):
    stranger = make_user("artist")
    new_artwork(support.client_for(stranger), seed=9, title="Not Yours")
    page = owner.session.get("/artworks").content.decode()
    assert "Not Yours" not in page
    cards = dict(re.findall(r'data-artwork-id="(\d+)"[^>]* data-status="([a-z]+)"', page))
    assert cards == {str(a["id"]): status for status, a in gallery.items()}
    # newest first, as GET /api/artworks; each image under its upload's live component, the title as alt
    assert [int(i) for i in re.findall(r'data-artwork-id="(\d+)"', page)] == sorted(
        (a["id"] for a in gallery.values()), reverse=True)
    active = gallery["active"]
    assert f'<smart-image upload-id="{active["upload"]["id"]}" size="display"' in page
    assert 'alt="Blue Hour"' in page and "size=display&amp;format=avif 1200w" in page
    assert f'href="/artists/{owner.username}/blue-hour"' in page
    assert "4 of at most 100 artworks." in page


def test_the_card_forms_hide_unhide_and_delete_without_javascript(owner, gallery):
    artwork_id = gallery["active"]["id"]
    assert owner.session.post(f"/artworks/{artwork_id}/hide")["Location"] == "/artworks"
    assert Artwork.objects.get(pk=artwork_id).hidden
    assert f'action="/artworks/{artwork_id}/unhide"' in owner.session.get("/artworks").content.decode()
    owner.session.post(f"/artworks/{artwork_id}/unhide")
    assert not Artwork.objects.get(pk=artwork_id).hidden
    owner.session.post(f"/artworks/{artwork_id}/delete")
    assert not Artwork.objects.filter(pk=artwork_id).exists()
    assert owner.session.get(f"/artworks/{artwork_id}/delete").status_code == 405


def test_the_home_gallery_leaves_artworks_images_to_the_artworks_page(owner, gallery, temp_dir):
    product = support.make_pending(owner, "product_image")
    home = owner.session.get("/")
    assert home.status_code == 200
    cards = set(re.findall(rb'/uploads/(\d+)/delete', home.content))
    assert str(product.pk).encode() in cards
    for artwork in gallery.values():
        assert str(artwork["upload"]["id"]).encode() not in cards


def test_someone_elses_artwork_is_left_alone(owner, gallery, make_user):
    other = Client()
    other.force_login(make_user("artist"))
    assert other.post(f"/artworks/{gallery['active']['id']}/delete").status_code == 302
    assert Artwork.objects.filter(pk=gallery["active"]["id"]).exists()


# --- the public pages ---------------------------------------------------------------------------


def test_the_artist_page_shows_the_active_artworks_only_without_sign_in(owner, gallery):
    response = Client().get(f"/artists/{owner.username}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert f"<h1>Artworks by {owner.username}</h1>" in page
    links = re.findall(rf'<a class="artwork-tile" href="(/artists/{owner.username}/[^"]+)">', page)
    assert links == [f"/artists/{owner.username}/blue-hour"]
    for title in ("Kept Back", "Still Drying", "Broken Frame"):
        assert title not in page
    # the square crops (icon and thumbnail, unwatermarked) with their real widths, the title as alt,
    # the placeholder's colour under the image until it loads (demo.css reads it)
    img = re.search(r"<img [^>]+>", page).group(0)
    assert 'alt="Blue Hour"' in img and 'width="300" height="300"' in img
    assert "size=icon&amp;format=jpeg 128w, " in img and "size=thumbnail&amp;format=jpeg 300w" in img
    assert 'data-dominant-color="#3a5a7c"' in img and "style=" not in img  # no inline style: the CSP
    assert "size=display" not in page


def test_the_artwork_page_shows_the_watermarked_display_the_fields_and_the_tags(owner, gallery):
    response = Client().get(f"/artists/{owner.username}/blue-hour")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Blue Hour</h1>" in page
    for text in ("Dusk over the harbour", "oil on linen", "60 x 80 cm", '<time datetime="2024-05-01">',
                 "<dd>painting</dd>", "<li>sea</li>", "<li>dusk</li>"):
        assert text in page, text
    img = re.search(r"<picture>.*?</picture>", page, re.S).group(0)
    # the display size alone: the one size larger than a thumbnail, and watermarked
    assert set(re.findall(r"size=(\w+)", img)) == {"display"}
    assert 'alt="Blue Hour"' in img and 'width="1200" height="800"' in img and 'loading="eager"' in img
    assert [t for t in re.findall(r'<source type="([^"]+)"', img)] == ["image/avif", "image/webp"]
    assert f'<meta property="og:image" content="https://cdn.example.test/api/images/{support.MEDIA_ID}' \
           '?size=display">' in page
    assert f'<link rel="canonical" href="http://testserver/artists/{owner.username}/blue-hour">' in page
    assert f'<a href="/artists/{owner.username}">All artworks by {owner.username}</a>' in page


def test_public_html_holds_no_temp_path_original_or_preset_output(owner):
    artwork = new_artwork(owner.api, seed=5, title="Made With A Tool", source_tool="dall-e")
    processed(artwork, presets=True)
    upload = owner.api.get(f"/api/uploads/{artwork['upload']['id']}").json()
    assert {v["size"] for v in upload["variants"]} >= {"normal", "hq"}  # the owner's upload object has them
    temp_path = Artwork.objects.get(pk=artwork["id"]).upload.image_path
    assert temp_path.startswith("/temp_images/artworks/")
    for url in (f"/artists/{owner.username}", f"/artists/{owner.username}/made-with-a-tool"):
        page = Client().get(url).content.decode()
        assert "temp_images" not in page and "/serve/" not in page and "vm.example.test" not in page, url
        assert "size=normal" not in page and "size=hq" not in page, url  # unwatermarked, larger than a grid
        assert upload["original_name"] not in page and temp_path not in page, url
        assert "/api/uploads" not in page and "media_id" not in page, url


@pytest.mark.parametrize("which", ["hidden", "processing", "failed"])
def test_an_artwork_that_is_not_active_is_a_404_page(owner, gallery, which):
    slug = gallery[which]["slug"]
    response = Client().get(f"/artists/{owner.username}/{slug}")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    assert "<h1>Not found</h1>" in response.content.decode()


def test_unknown_artists_and_slugs_are_404_pages(owner, gallery, make_user):
    for url in ("/artists/nobody-here", "/artists/nobody-here/blue-hour", f"/artists/{owner.username}/no-such-work"):
        response = Client().get(url)
        assert response.status_code == 404 and b"<h1>Not found</h1>" in response.content, url
        assert b'<meta name="robots" content="noindex">' in response.content
    # an artist of that name who is no longer active has no public page
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert Client().get(f"/artists/{owner.username}").status_code == 404
    # an artist without artworks has an empty page, not a 404
    quiet = make_user("artist")
    page = Client().get(f"/artists/{quiet.username}")
    assert page.status_code == 200 and b"No artworks here yet." in page.content


def test_the_artist_page_pages_through_many_artworks(owner, monkeypatch):
    monkeypatch.setattr(views, "ARTIST_PAGE_SIZE", 1)
    for seed, title in ((6, "First"), (7, "Second")):
        processed(new_artwork(owner.api, seed=seed, title=title), f"{seed:032x}")
    first = Client().get(f"/artists/{owner.username}").content.decode()
    assert "Second" in first and "First" not in first and 'href="?page=2" rel="next"' in first
    second = Client().get(f"/artists/{owner.username}?page=2").content.decode()
    assert "First" in second and 'href="?page=1" rel="prev"' in second
