"""PATCH /users/me: uploads judged by content, written together or not at all."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from main_api.media.intake.multipart import SizeLimitUploadHandler
from main_api.media.models import Upload
from main_api.users.models import ArtistProfile, PromoterProfile, SiteMedia, UserProfile
from main_api.users.services import user_profile_update
from shared.naming import is_temp_file_name
from tests.helpers.files import files_under
from tests.helpers.images import FORMATS, decoded_size, heif_bytes, heif_enc, image_bytes, photo_like, png_pixel_bomb
from tests.main_api.support import assert_nothing_written, client_for, upload


def stored_file(temp_dir, image: Upload):
    subdir, name = image.image_path.removeprefix("/temp_images/").split("/")
    return temp_dir / subdir / name


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_each_format_is_accepted_with_the_extension_of_its_content(fmt, artist, user_client, temp_dir):
    data = image_bytes(fmt, (120, 80))
    # name and content type say nothing true: only the bytes count
    response = upload(user_client, profile_image=("upload.bin", data, "application/octet-stream"))

    assert response.status_code == 200, response.json()
    image = Upload.objects.get(user=artist)
    extension, mime_type = FORMATS[fmt]
    assert image.mime_type == mime_type
    assert image.status == "pending" and image.data_type == "profile"
    assert image.target == "profile_image"
    assert image.original_name == "upload.bin"
    name = image.image_path.removeprefix("/temp_images/profiles/")
    assert is_temp_file_name(name) and name.startswith(f"{artist.pk}-profile-") and name.endswith(f".{extension}")
    path = stored_file(temp_dir, image)
    assert path.read_bytes() == data
    assert decoded_size(path.read_bytes()) == (120, 80)
    assert response.json()["profile_image_path"] == image.image_path
    assert UserProfile.objects.get(user=artist).profile_image_path == image.image_path


def test_a_real_heic_is_accepted(artist, user_client, temp_dir, tmp_path):
    data = heif_enc(photo_like(400, 300), tmp_path / "IMG_0001.HEIC").read_bytes()
    response = upload(user_client, header_image=("IMG_0001.HEIC", data, "image/heic"))

    assert response.status_code == 200, response.json()
    image = Upload.objects.get(user=artist)
    assert image.mime_type == "image/heif" and image.image_path.endswith(".heic")
    assert stored_file(temp_dir, image).read_bytes() == data
    assert UserProfile.objects.get(user=artist).header_image_path == image.image_path


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(heif_bytes(4032, 3024)[:40], id="ftyp-only"),
        pytest.param(heif_bytes(4032, 3024), id="boxes-without-pixels"),  # the VM could not decode it
        pytest.param(heif_bytes(40_000, 30_000), id="over-pixel-limit"),
    ],
)
def test_heif_without_sane_dimensions_is_refused(data, artist, user_client, temp_dir):
    response = upload(user_client, profile_image=("x.heic", data, "image/heic"))
    assert response.status_code == 400
    assert response.json()["extra"]["field"] == "profile_image"
    assert_nothing_written(artist, temp_dir)


def test_all_six_fields_of_an_artist_land_where_they_belong(artist, user_client, temp_dir):
    files = {field: (f"{field}.png", image_bytes("PNG", (40 + i, 30))) for i, field in enumerate(
        ["profile_image", "header_image", "logo_image", "site_image", "product_image", "event_image"]
    )}
    response = upload(user_client, **files)

    assert response.status_code == 200, response.json()
    images = {img.original_name.removesuffix(".png"): img for img in Upload.objects.filter(user=artist)}
    assert len(images) == 6
    assert {f: images[f].data_type for f in images} == {
        "profile_image": "profile",
        "header_image": "profile",
        "logo_image": "logo",
        "site_image": "sites",
        "product_image": "product",
        "event_image": "event",
    }
    assert images["site_image"].image_path.startswith("/temp_images/sites/")
    assert all(images[f].image_path.startswith("/temp_images/profiles/") for f in images if f != "site_image")
    for i, field in enumerate(files):
        assert decoded_size(stored_file(temp_dir, images[field]).read_bytes()) == (40 + i, 30)

    profile = UserProfile.objects.get(user=artist)
    assert profile.profile_image_path == images["profile_image"].image_path
    assert profile.header_image_path == images["header_image"].image_path
    assert ArtistProfile.objects.get(user=artist).logo_path == images["logo_image"].image_path
    assert list(SiteMedia.objects.filter(user=artist).values_list("media_path", flat=True)) == [
        images["site_image"].image_path
    ]
    assert images["product_image"].target == "" and images["event_image"].target == ""
    body = response.json()
    assert body["logo_path"] == images["logo_image"].image_path
    assert body["site_media"][0]["media_path"] == images["site_image"].image_path
    assert len(body["pending_images"]) == 6


def test_a_promoter_logo_goes_to_the_promoter_profile(make_user, temp_dir):
    promoter = make_user("promoter")
    response = upload(client_for(promoter), logo_image=("logo.webp", image_bytes("WEBP")))
    assert response.status_code == 200
    image = Upload.objects.get(user=promoter)
    assert image.target == "promoter_logo"
    assert PromoterProfile.objects.get(user=promoter).logo_path == image.image_path


def test_a_community_user_has_no_logo(make_user, temp_dir):
    community = make_user("community")
    response = upload(client_for(community), logo_image=("logo.png", image_bytes("PNG")))
    assert response.status_code == 400
    assert response.json()["extra"]["field"] == "logo_image"
    assert_nothing_written(community, temp_dir)


def _truncated_jpeg() -> bytes:
    data = image_bytes("JPEG", (640, 480))
    return data[: len(data) // 2]


BAD_UPLOADS = [
    pytest.param(b"just some text, honestly\n", "notes.jpg", "image/jpeg", "not an accepted", id="text-as-jpg"),
    pytest.param(
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        "page.jpg",
        "image/jpeg",
        "not an accepted",
        id="html-as-jpg",
    ),
    pytest.param(
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(1)</script></svg>",
        "logo.svg",
        "image/svg+xml",
        "not an accepted",
        id="svg",
    ),
    pytest.param(b"<?php system($_GET['c']); ?>", "shell.php.jpg", "image/jpeg", "not an accepted", id="php"),
    pytest.param(
        b"\xff\xd8\xff\xe0" + b"\x00" * 200, "broken.jpg", "image/jpeg", "truncated or corrupt", id="jpeg-magic-only"
    ),
    pytest.param(_truncated_jpeg(), "half.jpg", "image/jpeg", "truncated or corrupt", id="truncated-jpeg"),
    pytest.param(
        image_bytes("PNG", (300, 200))[:-200], "cut.png", "image/png", "truncated or corrupt", id="truncated-png"
    ),
    pytest.param(b"", "empty.jpg", "image/jpeg", "empty", id="empty"),
    pytest.param(png_pixel_bomb(), "bomb.png", "image/png", "100000000 pixels", id="pixel-bomb"),
]


@pytest.mark.parametrize(("data", "name", "content_type", "message"), BAD_UPLOADS)
def test_bad_uploads_are_refused_naming_the_field(data, name, content_type, message, artist, user_client, temp_dir):
    response = upload(user_client, header_image=(name, data, content_type))

    assert response.status_code == 400, response.content
    body = response.json()
    assert message in body["message"]
    assert body["extra"]["field"] == "header_image"
    assert_nothing_written(artist, temp_dir)


def test_the_pixel_limit_is_read_from_settings(settings, artist, user_client, temp_dir):
    settings.MAX_IMAGE_PIXELS = 100 * 100
    response = upload(user_client, profile_image=("big.png", image_bytes("PNG", (101, 100))))
    assert response.status_code == 400
    assert response.json()["extra"] == {"field": "profile_image", "max_pixels": 10_000, "width": 101, "height": 100}
    assert upload(user_client, profile_image=("ok.png", image_bytes("PNG", (100, 100)))).status_code == 200


def test_an_oversized_file_is_413_and_nothing_is_written(settings, artist, user_client, temp_dir):
    settings.MAX_UPLOAD_BYTES = 20_000
    data = image_bytes("PNG", (20, 20)) + b"\x00" * 20_000
    response = upload(user_client, profile_image=("a.png", image_bytes("PNG")), event_image=("big.png", data))

    assert response.status_code == 413
    assert response.json() == {
        "message": "file is larger than the limit of 20000 bytes",
        "extra": {"field": "event_image", "max_bytes": 20_000},
    }
    assert_nothing_written(artist, temp_dir)


def test_a_file_of_exactly_the_limit_is_accepted(settings, artist, user_client, temp_dir):
    data = image_bytes("PNG", (16, 16))
    settings.MAX_UPLOAD_BYTES = len(data)
    assert upload(user_client, profile_image=("a.png", data)).status_code == 200


def test_the_upload_handler_stops_at_the_first_chunk_past_the_limit(settings):
    settings.MAX_UPLOAD_BYTES = 100_000
    handler = SizeLimitUploadHandler()
    handler.new_file("product_image", "x.jpg", "image/jpeg", None)
    handler.receive_data_chunk(b"\x00" * 65_536, 0)
    with pytest.raises(Exception) as raised:
        handler.receive_data_chunk(b"\x00" * 65_536, 65_536)
    assert raised.value.status_code == 413 and raised.value.extra["field"] == "product_image"

    # the next file starts counting from zero
    handler.new_file("event_image", "y.jpg", "image/jpeg", None)
    assert handler.receive_data_chunk(b"\x00" * 65_536, 0)

    # a body that cannot fit within six files is refused before a byte of it is read
    with pytest.raises(Exception) as raised:
        handler.handle_raw_input(io.BytesIO(), {}, 6 * 100_000 + 2 * 1024 * 1024, b"boundary")
    assert raised.value.status_code == 413


def test_a_huge_body_is_refused_before_it_is_sent(live_server, transactional_db, settings, make_user):
    """Over real HTTP: the client declares 50 MB, sends only the headers, and gets its 413."""
    import socket
    from urllib.parse import urlsplit

    from main_api.users.services import user_token_get

    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    user = make_user("artist")
    url = urlsplit(live_server.url)
    head = (
        "PATCH /users/me HTTP/1.1\r\n"
        f"Host: {url.hostname}:{url.port}\r\n"
        f"Authorization: Token {user_token_get(user=user)}\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\n\r\n"
        "--xyz\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head.encode())
        received = b""
        while b"max_bytes" not in received and (chunk := sock.recv(65536)):
            received += chunk
    answer = received.decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert '"max_bytes":1048576' in answer.replace(" ", "")
    assert Upload.objects.count() == 0


def test_a_traversal_file_name_never_reaches_the_path(artist, user_client, temp_dir, tmp_path):
    response = upload(user_client, profile_image=("../../etc/passwd.jpg", image_bytes("JPEG")))

    assert response.status_code == 200
    image = Upload.objects.get(user=artist)
    assert ".." not in image.image_path and "passwd" not in image.image_path
    assert image.original_name == "passwd.jpg"
    assert files_under(tmp_path) == [stored_file(temp_dir, image)]


def test_a_php_name_on_a_real_image_is_stored_under_a_generated_jpg_name(artist, user_client, temp_dir):
    response = upload(user_client, product_image=("shell.php", image_bytes("JPEG"), "application/x-php"))
    assert response.status_code == 200
    image = Upload.objects.get(user=artist)
    assert image.image_path.endswith(".jpg") and "php" not in image.image_path
    assert image.original_name == "shell.php"


def test_one_bad_file_sinks_the_whole_request(artist, user_client, temp_dir):
    response = upload(
        user_client,
        profile_image=("good.jpg", image_bytes("JPEG")),
        site_image=("good.png", image_bytes("PNG")),
        header_image=("bad.jpg", b"<html>not an image</html>"),
    )
    assert response.status_code == 400
    assert response.json()["extra"]["field"] == "header_image"
    assert_nothing_written(artist, temp_dir)


def test_a_failure_while_writing_removes_the_files_already_written(artist, temp_dir, monkeypatch):
    from main_api.users import services

    calls = []
    real = services.reference_set

    def fail_on_second(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        real(**kwargs)

    monkeypatch.setattr(services, "reference_set", fail_on_second)
    files = {
        "profile_image": SimpleUploadedFile("a.jpg", image_bytes("JPEG")),
        "header_image": SimpleUploadedFile("b.jpg", image_bytes("JPEG")),
    }
    with pytest.raises(RuntimeError):
        user_profile_update(user=artist, files=files)

    assert len(calls) == 2
    assert_nothing_written(artist, temp_dir)


def test_unknown_and_repeated_file_fields_are_refused(artist, user_client, temp_dir):
    response = upload(user_client, avatar=("a.jpg", image_bytes("JPEG")))
    assert response.status_code == 400 and response.json()["extra"]["field"] == "avatar"

    data = {
        "site_image": [
            SimpleUploadedFile("a.jpg", image_bytes("JPEG"), "image/jpeg"),
            SimpleUploadedFile("b.jpg", image_bytes("JPEG"), "image/jpeg"),
        ]
    }
    response = user_client.patch("/users/me", data, format="multipart")
    assert response.status_code == 400 and response.json()["extra"]["field"] == "site_image"
    assert_nothing_written(artist, temp_dir)


def test_text_fields_update_with_or_without_files(artist, user_client, temp_dir):
    response = user_client.patch("/users/me/", {"display_name": "Ada", "bio": "paints"}, format="json")
    assert response.status_code == 200
    assert (response.json()["display_name"], response.json()["bio"]) == ("Ada", "paints")

    data = {"bio": "paints and prints", "profile_image": SimpleUploadedFile("p.gif", image_bytes("GIF"))}
    response = user_client.patch("/users/me", data, format="multipart")
    assert response.status_code == 200
    profile = UserProfile.objects.get(user=artist)
    assert profile.bio == "paints and prints" and profile.display_name == "Ada"
    assert profile.profile_image_path.endswith(".gif")


def test_uploads_need_a_token(user_client, temp_dir, client):
    response = client.patch("/users/me", {"profile_image": SimpleUploadedFile("a.jpg", image_bytes("JPEG"))})
    assert response.status_code == 401
    assert set(response.json()) == {"message", "extra"}
    assert files_under(temp_dir) == []


def test_uploads_are_throttled_per_user(settings, artist, user_client, make_user, temp_dir):
    settings.UPLOAD_THROTTLE_RATE = "2/min"
    for _ in range(2):
        assert user_client.patch("/users/me", {"bio": "x"}, format="json").status_code == 200
    response = user_client.patch("/users/me", {"bio": "x"}, format="json")
    assert response.status_code == 429
    assert "message" in response.json()
    # reading is not throttled, and other users have their own budget
    assert user_client.get("/users/me").status_code == 200
    assert client_for(make_user("artist")).patch("/users/me", {"bio": "y"}, format="json").status_code == 200
