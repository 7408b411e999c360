"""The frontend kit and the demo site without a browser (issue 16): ``{% smart_picture %}``'s
markup, the component's versioned URL, sign-in by password and by token, the session (with
CSRF) on the API, the no-JavaScript forms, and a static proof that no page or script of the
kit fetches anything from outside the system. ``tests/browser/test_demo_site.py`` does the rest in
Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.template import Context, Template
from django.test import Client

from main_api.frontend import pictures
from main_api.frontend.templatetags import smart_images
from main_api.media.models import Upload
from main_api.users.services import user_create, user_token_get
from tests.main_api.support import MEDIA_ID, complete_payload, make_pending, media_client

FRONTEND = Path(pictures.__file__).resolve().parent
BASE = f"https://cdn.example.test/api/images/{MEDIA_ID}"


def variant(size: str, fmt: str, width: int, height: int, bg: str = "original") -> dict:
    return {"size": size, "format": fmt, "bg": bg, "width": width, "height": height, "bytes": 1234}


SIZES = {"thumbnail": (300, 300), "grid": (500, 500), "small": (640, 427), "detail": (1200, 800)}
VARIANTS = [variant(size, fmt, w, h) for size, (w, h) in SIZES.items() for fmt in ("avif", "webp", "jpeg")]


def processed(user, **overrides) -> Upload:
    image = make_pending(user)
    payload = complete_payload(MEDIA_ID, **{"variants": VARIANTS, **overrides})
    response = media_client().post(f"/api/media/complete/{image.pk}", payload, format="json")
    assert response.status_code == 200, response.content
    image.refresh_from_db()
    return image


def render(source: str, **context) -> str:
    return Template("{% load smart_images %}" + source).render(Context(context))


# --- {% smart_picture %} -------------------------------------------------------------------------


def test_smart_picture_renders_avif_webp_and_a_jpeg_img_with_real_widths(artist, temp_dir):
    html = render('{% smart_picture upload size="detail" sizes="(min-width: 800px) 50vw, 100vw" %}',
                  upload=processed(artist))
    sources = re.findall(r'<source type="([^"]+)" srcset="([^"]+)" sizes="([^"]+)">', html)
    assert [s[0] for s in sources] == ["image/avif", "image/webp"]
    avif = sources[0][1]
    # the fitted sizes only (no square crop in a srcset of a 3:2 image), their real widths
    assert avif == (f"{BASE}?size=small&amp;format=avif 640w, {BASE}?size=detail&amp;format=avif 1200w")
    assert sources[0][2] == "(min-width: 800px) 50vw, 100vw"
    img = re.search(r"<img [^>]+>", html).group(0)
    assert f'src="{BASE}?size=detail&amp;format=jpeg"' in img
    assert 'width="1200" height="800"' in img
    assert 'loading="lazy"' in img and 'alt="' in img


def test_a_square_crop_uses_the_square_sizes_and_loading_can_be_eager(artist, temp_dir):
    html = render('{% smart_picture upload size="grid" loading="eager" alt="Me" %}', upload=processed(artist))
    assert "size=thumbnail&amp;format=webp 300w, " in html and "size=grid&amp;format=webp 500w" in html
    assert "size=detail" not in html
    assert 'width="500" height="500"' in html and 'loading="eager"' in html and 'alt="Me"' in html


def test_transparency_keeps_a_png_fallback(artist, temp_dir):
    variants = [variant(s, f, w, h) for s, (w, h) in SIZES.items() for f in ("avif", "webp", "png")]
    image = processed(artist, ai_analysis={"has_alpha": True, "width": 1200, "height": 800}, variants=variants)
    html = render("{% smart_picture upload %}", upload=image)
    assert "format=png" in re.search(r"<img [^>]+>", html).group(0)


def test_nothing_is_rendered_while_the_upload_has_no_image(artist, temp_dir):
    assert render("{% smart_picture upload %}", upload=make_pending(artist)).strip() == ""
    assert render("{% smart_picture upload %}", upload=None).strip() == ""


def test_the_background_option_sets_bg_removed():
    upload = {"variants": [{"size": "small", "width": 640, "height": 427, "formats": ["avif", "png"],
                            "url": f"{BASE}?size=small"}], "background": "original", "background_removed": True,
              "analysis": {}}
    data = pictures.picture_data(upload, "small", background="removed")
    assert data["src"] == f"{BASE}?size=small&format=png&bg=removed"
    assert data["sources"][0]["srcset"] == f"{BASE}?size=small&format=avif&bg=removed 640w"


# --- the component's URL ------------------------------------------------------------------------


def test_the_component_is_served_with_a_versioned_url(settings):
    url = render("{% versioned_static 'frontend/smart-image.js' %}")
    digest = smart_images._file_version("frontend/smart-image.js")
    assert url == f"/static/frontend/smart-image.js?v={digest}" and len(digest) == 12


def test_production_storage_hashes_the_names_and_the_module_imports():
    from django.contrib.staticfiles.storage import ManifestFilesMixin

    from main_api.common.static_storage import StaticFilesStorage

    # settings.py's production STORAGES: whitenoise serves hashed names with a year's cache
    # (tests/browser/test_demo_site.py sees it served so); `import ... from "./thumbhash.js";` is
    # rewritten to the hashed name as well
    assert issubclass(StaticFilesStorage, ManifestFilesMixin)
    assert StaticFilesStorage.support_js_module_import_aggregation


# --- the demo site --------------------------------------------------------------------------------


@pytest.fixture
def demo(db):
    return user_create(username="demo", user_type="artist", password="pw-12345-demo")


def test_home_asks_to_sign_in_and_the_admin_view_site_goes_there(db):
    assert admin.site.site_url == "/"
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login")
    page = Client().get("/login")
    assert page.status_code == 200 and b'name="password"' in page.content and b'name="token"' in page.content


def test_sign_in_with_the_password_shows_the_profile_with_the_component(demo, temp_dir):
    image = processed(demo)
    client = Client(enforce_csrf_checks=True)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', client.get("/login").content).group(1)
    response = client.post("/login", {"username": "demo", "password": "pw-12345-demo",
                                      "csrfmiddlewaretoken": token.decode()})
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/").content.decode()
    assert re.search(r'<script type="module" src="/static/frontend/demo\.js\?v=[0-9a-f]{12}">', page)
    assert f'<smart-image upload-id="{image.pk}"' in page
    assert "format=avif" in page  # the server-rendered <picture>, for a page without JavaScript


def test_a_wrong_password_and_a_wrong_token_are_refused(demo):
    assert Client().post("/login", {"username": "demo", "password": "nope"}).status_code == 400
    assert Client().post("/login", {"token": "0" * 40}).status_code == 400


def test_sign_in_with_a_token(demo):
    client = Client()
    response = client.post("/login", {"token": user_token_get(user=demo)})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_the_session_reads_the_api_and_writes_only_with_the_csrf_header(demo, temp_dir):
    image = make_pending(demo)
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo)
    assert client.get(f"/api/uploads/{image.pk}").json()["id"] == image.pk
    assert client.get("/users/me").status_code == 200
    assert client.delete(f"/api/uploads/{image.pk}").status_code == 403  # no CSRF token
    csrf = client.get("/").cookies["csrftoken"].value
    assert client.delete(f"/api/uploads/{image.pk}", HTTP_X_CSRFTOKEN=csrf).status_code == 204


def test_a_missing_token_is_still_a_401_naming_the_token(db):
    response = Client().get("/users/me")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


def test_the_card_forms_work_without_javascript(demo, temp_dir):
    image = make_pending(demo)
    client = Client()
    client.force_login(demo)
    assert f'action="/uploads/{image.pk}/delete"' in client.get("/").content.decode()
    assert client.post(f"/uploads/{image.pk}/delete").status_code == 302
    assert not Upload.objects.filter(pk=image.pk).exists()


# --- nothing from outside the system ------------------------------------------------------------


def kit_files() -> list[Path]:
    return sorted(p for p in FRONTEND.rglob("*") if p.suffix in {".html", ".js", ".css"})


def test_no_page_or_script_of_the_kit_fetches_from_outside():
    """Every template, script and style sheet of the kit, its comments taken out (the vendored
    ThumbHash names its home and licence there): no absolute URL and no protocol-relative one."""
    assert any(p.name == "smart-image.js" for p in kit_files())
    for path in kit_files():
        text = re.sub(r"/\*.*?\*/|\{#.*?#\}|<!--.*?-->", "", path.read_text(), flags=re.S)
        assert not re.search(r"https?://", text), path
        assert not re.search(r"""["'(]\s*//[a-z0-9]""", text, flags=re.I), path
