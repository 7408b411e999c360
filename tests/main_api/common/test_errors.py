"""Every error is JSON ``{"message", "extra"}``: unknown URLs, wrong methods, crashes; system checks."""

from __future__ import annotations

from django.test import Client

from main_api.common.checks import check_media_key
from main_api.media.intake.gate import check_image_codecs
from tests.main_api.support import client_for


def test_an_unknown_url_is_a_json_404(db):
    response = Client().get("/no/such/thing")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "extra": {}}


def test_a_wrong_method_is_a_json_405(artist):
    response = client_for(artist).put("/users/me")  # DELETE /users/me erases the account (issue 14)
    assert response.status_code == 405
    assert response.json() == {"message": 'Method "PUT" not allowed.', "extra": {"code": "method_not_allowed"}}


def test_a_crash_is_a_json_500_without_a_trace(artist, monkeypatch):
    from main_api.users import apis

    def crash(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(apis, "user_profile_get", crash)
    client = client_for(artist)
    client.raise_request_exception = False
    response = client.get("/users/me")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error.", "extra": {}}
    assert b"secret internals" not in response.content


def test_the_codec_check_passes_and_a_missing_key_warns(settings):
    assert check_image_codecs(None) == []
    settings.MEDIA_API_KEYS = []
    assert [m.id for m in check_media_key(None)] == ["main_api.W001"]
    settings.MEDIA_API_KEYS = ["k"]
    assert check_media_key(None) == []


def test_an_oversized_form_outside_the_api_is_a_bad_request_not_a_crash(settings, db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MAX_UPLOAD_BYTES = 1000
    client = Client(raise_request_exception=False)
    response = client.post("/admin/login/", {"f": SimpleUploadedFile("x.bin", b"\x00" * 5000)})
    assert response.status_code == 400
    assert response.json() == {"message": "Bad request.", "extra": {}}
