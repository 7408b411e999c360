"""GET /temp_images/...: the temp original, to its owner or the media key, 404 to anyone else."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from main_api.media.intake import temp_storage
from main_api.media.services.lifecycle import upload_fail
from tests.main_api.support import OLD_MEDIA_KEY, client_for, make_pending, media_client


@pytest.fixture
def image(artist, temp_dir):
    return make_pending(artist, "profile_image", fmt="PNG", size=(30, 20))


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_owner_gets_the_file(artist, image, temp_dir):
    for keyword in ("Token", "Bearer"):
        response = client_for(artist, keyword).get(image.image_path)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["Cache-Control"] == "private, no-store"
        name = image.image_path.rsplit("/", 1)[1]
        assert body_of(response) == (temp_dir / "profiles" / name).read_bytes()


def test_a_site_image_is_served_from_sites(artist, temp_dir):
    site = make_pending(artist, "site_image", fmt="GIF")
    assert site.image_path.startswith("/temp_images/sites/")
    response = client_for(artist).get(site.image_path)
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"


def test_the_media_key_gets_every_file(settings, image):
    response = media_client().get(image.image_path, HTTP_ACCEPT="image/*")
    assert response.status_code == 200 and body_of(response).startswith(b"\x89PNG")
    settings.MEDIA_API_KEYS = ["new-key", OLD_MEDIA_KEY]
    assert media_client(OLD_MEDIA_KEY).get(image.image_path).status_code == 200


@pytest.mark.parametrize(
    "who",
    ["anonymous", "other-user", "bad-token", "bad-bearer", "staff-user"],
)
def test_anyone_else_gets_404(who, image, make_user):
    if who == "anonymous":
        client = APIClient()
    elif who == "other-user":
        client = client_for(make_user("artist"))
    elif who == "staff-user":
        staff = make_user("community")
        staff.is_staff = staff.is_superuser = True
        staff.save()
        client = client_for(staff)
    else:
        client = APIClient()
        keyword = "Token" if who == "bad-token" else "Bearer"
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} 0123456789abcdef0123456789abcdef01234567")
    response = client.get(image.image_path, HTTP_ACCEPT="image/png")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "extra": {}}


@pytest.mark.parametrize(
    "path",
    [
        "/temp_images/../settings.py",
        "/temp_images/profiles/../../main_api/settings.py",
        "/temp_images/profiles/..%2F..%2Fmain_api%2Fsettings.py",
        "/temp_images/profiles/%2e%2e/%2e%2e/pyproject.toml",
        "/temp_images//etc/passwd",
        "/temp_images/%2Fetc%2Fpasswd",
        "/temp_images/profiles/",
        "/temp_images/",
        "/temp_images/secret.txt",
        "/temp_images/other/1-profile-1700000000000-0123456789abcdef.jpg",
        "/temp_images/profiles/1-profile-1700000000000-0123456789abcdef.jpg",  # well-formed, unknown
    ],
)
def test_traversal_and_unknown_paths_are_404_even_for_the_media_key(path, image, temp_dir):
    (temp_dir / "secret.txt").write_text("not for you")
    response = media_client().get(path)
    assert response.status_code == 404
    assert response.json()["message"] == "Not found."


def test_a_file_without_its_row_or_a_row_without_its_file_is_404(artist, image, temp_dir):
    planted = temp_dir / "profiles" / f"{artist.pk}-profile-1700000000000-00000000deadbeef.png"
    planted.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert client_for(artist).get(f"/temp_images/profiles/{planted.name}").status_code == 404

    upload_fail(image_id=image.pk, reason="gone")
    temp_storage.remove(image.image_path)  # swept past FAILED_RETENTION_DAYS
    assert client_for(artist).get(image.image_path).status_code == 404
    assert media_client().get(image.image_path).status_code == 404
