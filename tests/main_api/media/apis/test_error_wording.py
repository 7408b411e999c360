"""One wording per case (issue 26): the same case (an unknown id, someone else's id) answers the
same message on every method of a resource, the message ``main_api.*.errors`` declares; a PATCH
answers the object it was sent to; every error under ``/api/media/*`` also says
``"success": false`` (the seed's shape the media VM reads)."""

from __future__ import annotations

import pytest
from django.test import Client

from main_api.artworks import errors as artwork_errors
from main_api.common import errors as common_errors
from main_api.media import errors
from main_api.media.models import Upload
from tests.helpers.images import image_bytes
from tests.main_api.support import (
    MEDIA_ID,
    OTHER_MEDIA_ID,
    client_for,
    complete_payload,
    make_pending,
    media_client,
    upload,
)

UPLOAD_METHODS = [
    ("get", "/api/uploads/{id}", None),
    ("patch", "/api/uploads/{id}", {"background": "removed"}),
    ("delete", "/api/uploads/{id}", None),
    ("post", "/api/uploads/{id}/retry", None),
]


def answers(client, cases, upload_id: int) -> list[tuple[int, str]]:
    """The (status, message) of each method of ``cases`` on ``upload_id``."""
    found = []
    for method, path, body in cases:
        response = getattr(client, method)(path.format(id=upload_id), body, format="json")
        found.append((response.status_code, response.json()["message"]))
    return found


def test_an_unknown_upload_is_one_message_on_every_method(artist, temp_dir):
    expected = [(404, errors.UPLOAD_NOT_FOUND.message)] * len(UPLOAD_METHODS)
    assert answers(client_for(artist), UPLOAD_METHODS, 987654) == expected


def test_someone_elses_upload_is_the_unknown_ids_message_on_every_method(artist, make_user, temp_dir):
    theirs = make_pending(make_user(username="someone-else"), field="logo_image")
    expected = [(404, errors.UPLOAD_NOT_FOUND.message)] * len(UPLOAD_METHODS)
    assert answers(client_for(artist), UPLOAD_METHODS, theirs.pk) == expected
    assert Upload.objects.get(pk=theirs.pk).background == "", "nothing changed"


def test_the_media_vm_hears_the_owners_message_for_an_unknown_upload(db):
    client = media_client()
    for response in (client.post("/api/media/complete/987654", complete_payload(), format="json"),
                     client.post("/api/media/progress/987654", {"stage": "retrieved"}, format="json"),
                     client.delete("/api/media/cleanup/987654")):
        assert response.status_code == 404
        assert response.json() == {"success": False, "message": errors.UPLOAD_NOT_FOUND.message,
                                   "extra": {"id": 987654}}


def test_a_patch_on_a_duplicate_answers_the_duplicates_own_object(artist, temp_dir):
    """The background is the image's (the earlier upload's), but the answer is the upload the
    PATCH was sent to: its id, its duplicate_of."""
    client = client_for(artist)
    data = image_bytes("PNG")
    assert upload(client, logo_image=("logo.png", data, "image/png")).status_code == 200
    first = Upload.objects.filter(user=artist).latest("pk")
    assert upload(client, logo_image=("again.png", data, "image/png")).status_code == 200
    duplicate = Upload.objects.filter(user=artist).latest("pk")
    assert duplicate.duplicate_of_id == first.pk

    response = client.patch(f"/api/uploads/{duplicate.pk}", {"background": "removed"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["duplicate_of"], body["original_name"], body["background"]) == (
        duplicate.pk, first.pk, "again.png", "removed")
    first.refresh_from_db()
    assert first.background == "removed", "the image's background is the earlier upload's"
    assert client.get(f"/api/uploads/{duplicate.pk}").json() == body


@pytest.mark.parametrize("path", [f"/api/media/analysis/{OTHER_MEDIA_ID}", f"/api/media/similar/{OTHER_MEDIA_ID}"])
def test_an_image_not_yours_is_the_unknown_media_ids_message_on_both_endpoints(path, artist, make_user, temp_dir):
    theirs = make_pending(make_user(username="someone-else"))
    assert media_client().post(f"/api/media/complete/{theirs.pk}", complete_payload(OTHER_MEDIA_ID),
                               format="json").status_code == 200
    mine = client_for(artist)
    for asked in (path, path.replace(OTHER_MEDIA_ID, MEDIA_ID)):  # someone else's, unknown
        response = mine.get(asked)
        assert response.status_code == 404
        assert response.json() == {"success": False, "message": errors.PROCESSED_IMAGE_NOT_FOUND.message,
                                   "extra": {"media_id": asked.rsplit("/", 1)[1]}}


def test_every_error_of_the_media_vms_api_says_success_false(artist, temp_dir):
    """401, 400, 404 (an unknown id, an unknown route), 405 and 409: the seed's shape, with the
    message and extra every other error has."""
    image = make_pending(artist)
    client = media_client()
    assert client.post(f"/api/media/complete/{image.pk}", complete_payload(), format="json").status_code == 200
    answers = {
        "401": Client().post(f"/api/media/complete/{image.pk}", {}, content_type="application/json"),
        "400": client.post(f"/api/media/complete/{image.pk}", {"media_id": "nope"}, format="json"),
        "404": client.post("/api/media/deletions/987654/done"),
        "404 route": client.get("/api/media/no/such/route"),
        "405": client.put(f"/api/media/complete/{image.pk}", {}, format="json"),
        "409": client.delete(f"/api/media/cleanup/{image.pk}"),
    }
    for case, response in answers.items():
        assert str(response.status_code) == case.split()[0], (case, response.content)
        body = response.json()
        assert body["success"] is False and isinstance(body["message"], str), (case, body)
        assert isinstance(body["extra"], dict), (case, body)
    assert answers["404"].json()["message"] == errors.MEDIA_DELETION_NOT_FOUND.message
    assert answers["404 route"].json()["message"] == common_errors.NOT_FOUND.message
    assert answers["409"].json()["message"] == errors.MEDIA_FAIL_FINISHED.message


def test_errors_elsewhere_do_not_say_success(artist):
    """Only the media VM's API has the seed's extra key."""
    response = client_for(artist).get("/api/uploads/987654")
    assert response.json() == {"message": errors.UPLOAD_NOT_FOUND.message, "extra": {"id": 987654}}


@pytest.mark.parametrize("media_id", ["not-a-media-id", MEDIA_ID.upper()])
def test_a_malformed_media_id_is_the_unknown_images_message(media_id, db):
    response = Client().get(f"/api/images/{media_id}")
    assert response.status_code == 404
    assert response.json() == {"message": errors.IMAGE_NOT_FOUND.message, "extra": {"media_id": media_id}}


def test_an_unknown_or_someone_elses_artwork_is_one_message_on_every_method(artist, make_user):
    from main_api.artworks.models import Artwork

    other = make_user(username="someone-else")
    theirs = make_pending(other, field="profile_image")
    artwork = Artwork.objects.create(user=other, upload=theirs, title="Theirs", slug="theirs")
    client = client_for(artist)
    for artwork_id in (987654, artwork.pk):
        got = [(r.status_code, r.json()["message"]) for r in (
            client.get(f"/api/artworks/{artwork_id}"),
            client.patch(f"/api/artworks/{artwork_id}", {"hidden": True}, format="json"),
            client.delete(f"/api/artworks/{artwork_id}"))]
        assert got == [(404, artwork_errors.ARTWORK_NOT_FOUND.message)] * 3, artwork_id


@pytest.mark.parametrize(("path", "says_success"), [("/api/media/complete/1", True), ("/users/me", False)])
def test_a_body_refused_before_django_says_success_false_under_api_media(path, says_success):
    """The ASGI guard's 413 (a Content-Length over the limit, answered before Django runs)."""
    import asyncio
    import json

    from main_api.common.asgi import RequestBodyGuard

    async def app(scope, receive, send):  # pragma: no cover - never reached
        raise AssertionError("the guard answers first")

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():  # pragma: no cover - never read
        return {"type": "http.request", "body": b""}

    guard = RequestBodyGuard(app, max_body_bytes=lambda: 10, max_file_bytes=lambda: 10, read_timeout=lambda: 1.0)
    scope = {"type": "http", "method": "POST", "path": path, "headers": [(b"content-length", b"999")]}
    asyncio.run(guard(scope, receive, send))
    assert sent[0]["status"] == 413
    body = json.loads(sent[1]["body"])
    assert ("success" in body) is says_success and body.get("success", False) is False
    assert set(body) - {"success"} == {"message", "extra"}


def test_the_schema_shows_the_declared_messages_and_the_media_vms_error_shape(client, db):
    """Each documented 404 of an upload carries the declared message as its example; the media
    VM's errors are MediaVmError (success, message, extra); a PATCH says it answers itself."""
    import yaml

    response = client.get("/api/schema/")
    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    paths, components = document["paths"], document["components"]["schemas"]

    def error_of(path: str, method: str, status: str) -> dict:
        return paths[path][method]["responses"][status]["content"]["application/json"]

    for method in ("get", "patch", "delete"):
        examples = error_of("/api/uploads/{upload_id}", method, "404")["examples"]
        assert [e["value"]["message"] for e in examples.values()] == [errors.UPLOAD_NOT_FOUND.message], method
    assert set(components["MediaVmError"]["properties"]) == {"success", "message", "extra"}
    for path, method in (("/api/media/complete/{image_id}", "post"), ("/api/media/cleanup/{image_id}", "delete"),
                         ("/api/media/analysis/{media_id}", "get")):
        for status in ("401", "404"):
            assert error_of(path, method, status)["schema"] == {"$ref": "#/components/schemas/MediaVmError"}, path
    assert "a duplicate answers itself" in paths["/api/uploads/{upload_id}"]["patch"]["responses"]["200"]["description"]
