"""The OpenAPI schema at /api/schema/ lists every endpoint of the URL conf, and the docs load."""

from __future__ import annotations

import re

import yaml
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import EndpointEnumerator

#: Not part of the API: the admin, the schema and its docs page themselves, and the browsers' favicon.
NOT_API = re.compile(r"^/(admin|api/schema|api/docs|favicon\.ico$)")


def schema(client) -> dict:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def routed_endpoints() -> set[tuple[str, str]]:
    """(path, method) of every route in the URL conf, spelled as OpenAPI paths."""
    enumerator = EndpointEnumerator()
    found: set[tuple[str, str]] = set()

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "frontend":  # the demo site's pages (main_api/frontend), not API
                    continue
                walk(entry.url_patterns, prefix + str(entry.pattern))
                continue
            assert isinstance(entry, URLPattern)
            route = prefix + str(entry.pattern)
            path = enumerator.get_path_from_regex(route)
            if route.endswith("/?$"):
                path = path.rstrip("/")
            if NOT_API.match(path) or path == "/admin":
                continue
            view_class = getattr(entry.callback, "view_class", None) or getattr(entry.callback, "cls", None)
            if view_class is None:  # a plain function view
                methods = {"get"}
            else:
                methods = {m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)}
            found.update((path, m) for m in methods)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_route_is_in_the_schema_and_nothing_else(client, db):
    paths = schema(client)["paths"]
    documented = {(path, method) for path, ops in paths.items() for method in ops if method != "parameters"}
    assert documented == routed_endpoints()
    # the ones the contract names, spelled out
    assert {
        ("/users/me", "get"), ("/users/me", "patch"),
        ("/api/media/pending/all", "get"), ("/api/media/complete/{image_id}", "post"),
        ("/api/media/cleanup/{image_id}", "delete"), ("/api/media/analysis/{media_id}", "get"),
        ("/api/images/{media_id}", "get"), ("/temp_images/{path}", "get"), ("/health", "get"), ("/metrics", "get"),
    } <= documented


def test_users_me_patch_is_multipart_with_every_file_field(client, db):
    """Multipart with every file field, first (what a client picks for uploads); JSON for the
    text fields alone, as the view parses it."""
    doc = schema(client)
    body = doc["paths"]["/users/me"]["patch"]["requestBody"]["content"]
    assert list(body) == ["multipart/form-data", "application/json"]
    text_ref = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(doc["components"]["schemas"][text_ref]["properties"]) == {"display_name", "bio"}
    ref = body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    props = doc["components"]["schemas"][ref]["properties"]
    for field in ("profile_image", "header_image", "logo_image", "site_image", "product_image", "event_image"):
        assert props[field] == {**props[field], "type": "string", "format": "binary"}, field
    assert {"display_name", "bio"} <= set(props)
    assert set(doc["paths"]["/users/me"]["patch"]["responses"]) >= {"200", "400", "413"}


def test_media_endpoints_name_their_auth_and_the_image_url_its_parameters(client, db):
    doc = schema(client)
    assert doc["paths"]["/api/media/pending/all"]["get"]["security"] == [{"mediaKey": []}]
    assert doc["components"]["securitySchemes"]["mediaKey"]["scheme"] == "bearer"
    complete = doc["paths"]["/api/media/complete/{image_id}"]["post"]
    ref = complete["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"media_id", "formats_available", "sizes_available", "ai_analysis"} <= set(
        doc["components"]["schemas"][ref]["properties"])
    item_ref = doc["components"]["schemas"]["PendingList"]["properties"]["images"]["items"]["$ref"].rsplit("/", 1)[1]
    assert "request_id" in doc["components"]["schemas"][item_ref]["properties"]
    image = doc["paths"]["/api/images/{media_id}"]["get"]
    assert {p["name"] for p in image["parameters"]} == {"media_id", "size", "format", "bg"}
    assert "image/*" in image["responses"]["200"]["content"]


def test_the_docs_page_is_served_without_a_cdn(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/api/schema/" in page and "swagger-ui" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()
    assert re.search(r'src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle\.js"', page)


def test_the_schema_enumerates_the_sizes_of_the_outputs_file_the_service_started_with(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from shared.outputs import BUILTIN_FILE

    root = Path(__file__).resolve().parents[3]
    outputs = tmp_path / "outputs.toml"
    outputs.write_text(BUILTIN_FILE.read_text() + '\n[sizes.portrait]\nbox = [1080, 1920]\nfit = "inside"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MEDIA_OUTPUTS_FILE"))}
    env.update(DJANGO_SETTINGS_MODULE="main_api.settings", DJANGO_ENV="dev", MEDIA_OUTPUTS_FILE=str(outputs))
    done = subprocess.run([sys.executable, "-m", "main_api", "spectacular", "--file", str(tmp_path / "s.yaml")],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    sizes = yaml.safe_load((tmp_path / "s.yaml").read_text())["components"]["schemas"]["ImageSizeEnum"]["enum"]
    assert "portrait" in sizes and {"thumbnail", "detail", "hq"} <= set(sizes)
