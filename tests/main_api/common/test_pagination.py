"""The lists' cursors (issue 25, 5a): ``/api/uploads``, ``/api/artworks`` and the public
``/api/users/{username}/artworks`` read back only the cursors the server issued; any other is a
400 naming ``cursor`` in the project's error shape, never a 500 (a forged position reaching the
database) or a 404; the schema says so."""

from __future__ import annotations

from base64 import b64encode
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers.images import image_bytes
from tests.main_api.artworks.test_artworks import new_artwork
from tests.main_api.support import client_for, upload

pytestmark = pytest.mark.django_db


def b64(text: str) -> str:
    return b64encode(text.encode()).decode()


#: Cursors the server never issued: undecodable, and DRF's encoding of forged positions.
FORGED = {
    "undecodable": "%%%not-base64",
    "a forged position": b64("p=notadate"),
    "a negative offset": b64("o=-5&p=x"),
    "a position of the wrong type": b64("p=12345"),
    "a well-formed position": b64("p=2026-01-01 00:00:00+00:00"),
    "reversed, no position": b64("r=1"),
    "a huge offset": b64("o=99999999999999999999"),
}


def lists(artist) -> list[str]:
    return ["/api/uploads", "/api/artworks", f"/api/users/{artist.username}/artworks"]


def cursor_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["cursor"][0]


@pytest.mark.parametrize("case", FORGED)
def test_a_cursor_the_server_did_not_issue_is_a_400_naming_it(case, artist):
    client = client_for(artist)
    client.raise_request_exception = False  # a 500 is an answer here, not an exception
    upload(client, profile_image=("a.jpg", image_bytes()))
    for path in lists(artist):
        response = client.get(path, {"cursor": FORGED[case]})
        assert response.status_code == 400, (path, response.status_code, response.content[:300])
        body = response.json()
        assert set(body) == {"message", "extra"} and list(body["extra"]["fields"]) == ["cursor"], (path, body)
        assert body["extra"]["fields"]["cursor"][0].startswith("not a cursor this server issued")


def test_the_cursors_the_server_issues_page_through_and_tampered_ones_are_refused(artist):
    client = client_for(artist)
    for n in range(3):
        upload(client, profile_image=(f"{n}.png", image_bytes("PNG", color=(n * 40, 9, 90))))
        new_artwork(client, seed=n + 1)
    for path in lists(artist)[:2]:
        seen, page = [], client.get(path, {"limit": 1}).json()
        while True:
            seen += [row["id"] for row in page["results"]]
            if not page["next"]:
                break
            last = page
            page = client.get(path, {"limit": 1, "cursor": cursor_of(page["next"])}).json()
        assert len(seen) == len(set(seen)) >= 3, path  # newest first, each once
        assert client.get(path, {"limit": 1, "cursor": ""}).json()["results"][0]["id"] == seen[0], "empty: none"
        back = client.get(path, {"limit": 1, "cursor": cursor_of(page["previous"])})
        assert back.status_code == 200 and back.json()["results"] == last["results"], path

        issued = cursor_of(last["next"])
        encoded, _, signature = issued.rpartition(":")
        flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
        for forged in (encoded, f"{encoded}:{flipped}", f"{b64('o=1&p=x')}:{signature}"):
            response = client.get(path, {"limit": 1, "cursor": forged})
            assert response.status_code == 400 and "cursor" in response.json()["extra"]["fields"], (path, forged)


def test_the_schema_documents_the_cursor_and_its_400(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/uploads", "/api/artworks", "/api/users/{username}/artworks"):
        operation = schema["paths"][path]["get"]
        assert "cursor" in {p["name"] for p in operation["parameters"]}, path
        assert "cursor" in operation["responses"]["400"]["description"], path


def test_a_cursor_of_one_list_is_refused_by_the_others(artist):
    """Before: a signed /api/uploads cursor was taken by the artwork lists (200, a page of them)."""
    client = client_for(artist)
    for n in range(2):
        upload(client, profile_image=(f"{n}.png", image_bytes("PNG", color=(n * 40, 9, 90))))
        new_artwork(client, seed=n + 1)
    paths = lists(artist)  # the public list shows active artworks only: none here, so it issues none
    cursors = {path: cursor_of(client.get(path, {"limit": 1}).json()["next"]) for path in paths[:2]}
    for issued_by, cursor in cursors.items():
        for path in paths:
            response = client.get(path, {"limit": 1, "cursor": cursor})
            if path == issued_by:
                assert response.status_code == 200, path
            else:
                assert response.status_code == 400 and "cursor" in response.json()["extra"]["fields"], (issued_by, path)
