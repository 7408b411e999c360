"""The temp storage contract, run against both backends (``TEMP_STORAGE=local`` and ``s3`` on the
moto server): create, serve, copy (re-processing), retry's check, the sweeps, deletion.

``temp_storage`` is None for local storage, else the bucket (``tests/main_api/conftest.py``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from main_api.media.intake import temp_storage as temp_files
from main_api.media.models import Upload
from main_api.media.services.deletion import upload_delete
from main_api.media.services.lifecycle import upload_fail, upload_retry
from main_api.media.services.reprocessing import upload_reprocess
from main_api.media.services.sweeps import failed_originals_sweep, upload_stuck_sweep_one
from main_api.settings import SettingsError, temp_storage_config
from main_api.users.services import user_profile_update
from tests.main_api.support import client_for, make_pending, media_client

pytestmark = pytest.mark.django_db


def stored(temp_storage, temp_dir) -> dict[str, int]:
    """Every temp object: storage name -> size (the bucket's keys less the prefix, or files)."""
    if temp_storage is None:
        return {p.relative_to(temp_dir).as_posix(): p.stat().st_size for p in temp_dir.rglob("*") if p.is_file()}
    return {key.removeprefix(temp_storage.prefix): size for key, size in temp_storage.keys().items()}


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def test_an_upload_is_written_to_the_configured_storage_and_nowhere_else(temp_storage, temp_dir, artist):
    image = make_pending(artist, "profile_image", fmt="PNG", size=(30, 20))
    name = temp_files.storage_name(image.image_path)
    assert stored(temp_storage, temp_dir) == {name: temp_files.size(image.image_path)}
    if temp_storage is not None:
        assert not temp_dir.exists() or not any(p.is_file() for p in temp_dir.rglob("*")), "nothing on the disk"
        assert next(iter(temp_storage.keys())).startswith("tmp-originals/profiles/")
    assert temp_files.exists(image.image_path)


def test_the_owner_and_the_media_key_get_it_streamed_with_the_download_headers(temp_storage, artist):
    image = make_pending(artist, "profile_image", fmt="PNG", size=(30, 20))
    opened = temp_files.open_stream(image.image_path)
    with opened.file:
        expected = opened.file.read()
    for client in (client_for(artist), media_client()):
        response = client.get(image.image_path)
        assert response.status_code == 200
        assert body_of(response) == expected
        assert int(response["Content-Length"]) == len(expected)
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert response["Cache-Control"] == "private, no-store"


def test_another_user_or_a_missing_object_is_404(temp_storage, artist, make_user):
    image = make_pending(artist, "profile_image", fmt="PNG")
    assert client_for(make_user("artist")).get(image.image_path).status_code == 404
    temp_files.remove(image.image_path)
    assert media_client().get(image.image_path).status_code == 404
    assert client_for(artist).get(image.image_path).status_code == 404


@pytest.mark.parametrize("path", [
    "/temp_images/../settings.py", "/temp_images/profiles/../../x.png", "/temp_images/direct/" + "a" * 40,
    "/temp_images/profiles/1-profile-1700000000000-0123456789abcdef.jpg",
])
def test_paths_that_are_not_ours_are_404(temp_storage, path):
    assert media_client().get(path).status_code == 404


def test_an_artwork_original_is_a_temp_path_of_its_own_folder(temp_storage):
    url_path = temp_files.new_temp_name(user_id=7, data_type="artwork", extension="png")
    assert url_path.startswith("/temp_images/artworks/7-artwork-")
    assert "artworks" in temp_files.SUBDIRS and temp_files.storage_name(url_path) == url_path[len("/temp_images/"):]


def test_a_failed_request_leaves_nothing_behind(temp_storage, temp_dir, artist, monkeypatch):
    from main_api.users import services as user_services

    def refuse(**kwargs):
        raise RuntimeError("the reference could not be set")

    monkeypatch.setattr(user_services, "reference_set", refuse)
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.helpers.images import image_bytes

    with pytest.raises(RuntimeError):
        user_profile_update(user=artist, files={"profile_image": SimpleUploadedFile("a.png", image_bytes("PNG"))})
    assert stored(temp_storage, temp_dir) == {}
    assert not Upload.objects.exists()


def test_reprocessing_copies_the_original(temp_storage, temp_dir, artist):
    from tests.main_api.support import complete_payload

    image = make_pending(artist, "profile_image", fmt="PNG")
    assert media_client().post(f"/api/media/complete/{image.pk}", complete_payload(), format="json").status_code == 200
    again = upload_reprocess(image_id=image.pk)
    assert again.image_path != image.image_path
    sizes = stored(temp_storage, temp_dir)
    assert sizes[temp_files.storage_name(again.image_path)] == sizes[temp_files.storage_name(image.image_path)]
    assert media_client().get(again.image_path).status_code == 200


def test_retry_needs_the_original_and_the_failed_sweep_deletes_it(temp_storage, temp_dir, artist):
    image = make_pending(artist, "profile_image", fmt="PNG")
    upload_fail(image_id=image.pk, reason="vm said no")
    assert upload_retry(image_id=image.pk).status == "pending"
    upload_fail(image_id=image.pk, reason="vm said no again")
    Upload.objects.filter(pk=image.pk).update(updated_at=timezone.now() - timedelta(days=8))
    assert failed_originals_sweep(image_ids=[image.pk], older_than=timedelta(days=7)) == 1
    assert stored(temp_storage, temp_dir) == {}
    from main_api.common.exceptions import GoneError

    with pytest.raises(GoneError):
        upload_retry(image_id=image.pk)


def test_the_stuck_sweep_fails_a_row_whose_original_is_gone_and_requeues_one_that_has_it(temp_storage, artist):
    kept, gone = make_pending(artist, "product_image", fmt="PNG"), make_pending(artist, "event_image", fmt="GIF")
    temp_files.remove(gone.image_path)
    Upload.objects.update(updated_at=timezone.now() - timedelta(hours=2))
    assert upload_stuck_sweep_one(image_id=kept.pk, older_than=timedelta(hours=1), fail=False) == "requeued"
    assert upload_stuck_sweep_one(image_id=gone.pk, older_than=timedelta(hours=1), fail=False) == "failed"


def test_deletion_removes_the_original_once_committed(temp_storage, temp_dir, artist,
                                                       django_capture_on_commit_callbacks):
    image = make_pending(artist, "profile_image", fmt="PNG")
    with django_capture_on_commit_callbacks(execute=True):
        upload_delete(image_id=image.pk, user_id=artist.pk)
    assert stored(temp_storage, temp_dir) == {}


@pytest.mark.parametrize(("env", "message"), [
    ({"TEMP_STORAGE": "ftp"}, "TEMP_STORAGE must be local or s3"),
    ({"TEMP_STORAGE": "s3"}, "needs TEMP_S3_BUCKET"),
    ({"TEMP_STORAGE": "s3", "TEMP_S3_BUCKET": "b", "TEMP_S3_ENDPOINT_URL": "minio:9000"}, "http(s) URL"),
    ({"TEMP_STORAGE": "s3", "TEMP_S3_BUCKET": "b", "TEMP_S3_ACCESS_KEY_ID": "id"}, "go together"),
    ({"TEMP_STORAGE": "s3", "TEMP_S3_BUCKET": "b", "TEMP_S3_PREFIX": "a/../b"}, "TEMP_S3_PREFIX"),
])
def test_bad_settings_are_a_clear_error(env, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        temp_storage_config(env)


def test_s3_credentials_may_come_from_the_standard_aws_environment():
    options = temp_storage_config({"TEMP_STORAGE": "s3", "TEMP_S3_BUCKET": "b", "AWS_DEFAULT_REGION": "eu-west-1"})
    assert options["OPTIONS"]["region_name"] == "eu-west-1"
    assert "access_key" not in options["OPTIONS"]  # django-storages, then boto3's chain, find them
