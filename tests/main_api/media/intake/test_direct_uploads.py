"""Direct uploads (``main_api.media.intake.direct_uploads``): the main API's signed PUT with local temp
storage, a presigned POST to the bucket (the moto server) with S3 temp storage, the take, the sweep."""

from __future__ import annotations

import base64
import io
import json
from datetime import timedelta

import pytest
import requests
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from main_api.common.exceptions import ApplicationError, UploadTooLarge
from main_api.media.intake import temp_storage
from main_api.media.intake.direct_uploads import (
    DirectUploadInvalid,
    direct_upload_body_limit,
    direct_upload_issue,
    direct_upload_receive,
    direct_upload_take,
    direct_uploads_sweep,
)
from main_api.media.models import DirectUpload
from tests.helpers.images import image_bytes

pytestmark = pytest.mark.django_db

PNG = image_bytes("PNG", (40, 30))
PNG_SIZE = len(PNG)


def issue(user, *, size=PNG_SIZE, content_type="image/png", filename="../My photo\x00.png"):
    return direct_upload_issue(user_id=user.pk, filename=filename, content_type=content_type, size=size,
                               request=RequestFactory().get("/"))


def put(url: str, body: bytes, **extra):
    """The PUT as a browser sends it: no session, no token, no CSRF header."""
    path = url.removeprefix("http://testserver")
    return APIClient(enforce_csrf_checks=True).generic("PUT", path, body, content_type="image/png", **extra)


def take(user, key):
    with transaction.atomic():
        return direct_upload_take(user_id=user.pk, key=key)


def objects(temp_storage, temp_dir) -> list[str]:
    if temp_storage is None:
        return sorted(p.relative_to(temp_dir).as_posix() for p in temp_dir.rglob("*") if p.is_file())
    return sorted(k.removeprefix(temp_storage.prefix) for k in temp_storage.keys())


# --- issue -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "status", "field"), [
    ({"content_type": "image/svg+xml"}, 400, "content_type"),
    ({"size": 0}, 400, "size"),
    ({"size": 5 * 1024 * 1024 + 1}, 413, "size"),
])
def test_issue_refuses_a_bad_type_or_size_naming_the_field(artist, changes, status, field):
    with pytest.raises(ApplicationError) as refused:
        issue(artist, **changes)
    assert refused.value.status_code == status and refused.value.extra["field"] == field
    assert not DirectUpload.objects.exists()


def test_issue_with_local_storage_is_a_signed_put_to_the_main_api(artist, temp_dir):
    answer = issue(artist)
    assert answer["method"] == "PUT" and "fields" not in answer
    assert answer["upload_url"].startswith("http://testserver/api/uploads/direct/")
    row = DirectUpload.objects.get(key=answer["key"])
    assert len(row.key) == 40 and row.user_id == artist.pk and row.size == len(PNG)
    assert row.original_name == "My photo_.png" and row.content_type == "image/png"
    assert abs((row.expires_at - timezone.now()) - timedelta(seconds=300)) < timedelta(seconds=5)
    assert answer["key"] not in answer["upload_url"].split("/")[-1].split(":")[-1]  # not the signature


# --- the local PUT -----------------------------------------------------------------------------


def test_put_then_take_gives_the_same_bytes_and_deletes_the_object_on_commit(artist, temp_dir,
                                                                              django_capture_on_commit_callbacks):
    answer = issue(artist)
    response = put(answer["upload_url"], PNG)
    assert response.status_code == 200, response.content
    assert response.json() == {"key": answer["key"], "size": len(PNG)}
    assert objects(None, temp_dir) == [f"direct/{answer['key']}"]
    with django_capture_on_commit_callbacks(execute=True):
        taken = take(artist, answer["key"])
    assert taken.file.read() == PNG and taken.original_name == "My photo_.png" and taken.size == len(PNG)
    assert taken.file.seekable()
    assert objects(None, temp_dir) == []
    assert DirectUpload.objects.get(key=answer["key"]).consumed_at is not None


def test_a_second_put_is_refused(artist, temp_dir):
    answer = issue(artist)
    assert put(answer["upload_url"], PNG).status_code == 200
    second = put(answer["upload_url"], image_bytes("PNG", (10, 10)))
    assert second.status_code == 409 and "used already" in second.json()["message"]
    assert take(artist, answer["key"]).file.read() == PNG


def test_a_body_over_the_declared_size_is_refused_and_leaves_nothing(artist, temp_dir):
    answer = issue(artist, size=100)
    response = put(answer["upload_url"], PNG)  # Content-Length says so: refused before reading
    assert response.status_code == 413 and response.json()["extra"]["max_bytes"] == 100
    token = answer["upload_url"].rsplit("/", 1)[1]
    with pytest.raises(UploadTooLarge):  # no length declared (chunked): counted while written
        direct_upload_receive(token=token, body=io.BytesIO(PNG), content_length=None)
    assert objects(None, temp_dir) == []
    assert not any(p.name.endswith(".part") for p in temp_dir.rglob("*"))
    # a refused attempt gives the URL back: the right file still goes
    assert put(answer["upload_url"], PNG[:100]).status_code == 200


def test_the_put_answers_the_bytes_received_not_the_size_declared(artist, temp_dir):
    answer = issue(artist, size=len(PNG) * 2)
    response = put(answer["upload_url"], PNG)
    assert response.status_code == 200 and response.json() == {"key": answer["key"], "size": len(PNG)}


def test_an_empty_body_is_400(artist, temp_dir):
    response = put(issue(artist)["upload_url"], b"")
    assert response.status_code == 400 and response.json()["extra"]["field"] == "file"


def test_an_expired_url_is_410(artist, temp_dir, settings):
    answer = issue(artist)
    DirectUpload.objects.filter(key=answer["key"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = put(answer["upload_url"], PNG)
    assert response.status_code == 410 and "expired" in response.json()["message"]
    settings.DIRECT_UPLOAD_SECONDS = 10  # the signature's own age limit too
    signed_long_ago = issue(artist)
    from unittest import mock

    with mock.patch("time.time", return_value=__import__("time").time() + 60):
        assert put(signed_long_ago["upload_url"], PNG).status_code == 410
    with pytest.raises(DirectUploadInvalid, match="expired"):
        take(artist, answer["key"])


def test_a_key_whose_bytes_arrived_in_time_is_refused_once_it_has_expired(artist, temp_dir):
    """The sweep's hour of grace is no extension of the key: past ``expires_at`` it is refused
    when taken, uploaded or not (the README's 300 s)."""
    answer = issue(artist)
    assert put(answer["upload_url"], PNG).status_code == 200
    DirectUpload.objects.filter(key=answer["key"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(DirectUploadInvalid, match="^this upload key has expired$"):
        take(artist, answer["key"])
    assert DirectUpload.objects.get(key=answer["key"]).consumed_at is None


@pytest.mark.parametrize("tamper", ["key", "size", "signature"])
def test_a_tampered_url_is_403(artist, temp_dir, tamper):
    answer = issue(artist, size=200)
    url = answer["upload_url"]
    payload, stamp, signature = url.rsplit("/", 1)[1].split(":")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    if tamper == "key":
        data["k"] = issue(artist)["key"]
    elif tamper == "size":
        data["n"] = 5_000_000
    if tamper != "signature":
        payload = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")
    else:
        signature = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    response = put(url.rsplit("/", 1)[0] + f"/{payload}:{stamp}:{signature}", PNG)
    assert response.status_code == 403 and response.json()["message"] == "this upload URL is not valid"
    assert objects(None, temp_dir) == []


def test_the_asgi_guard_caps_the_body_at_the_declared_size(artist, temp_dir):
    answer = issue(artist, size=123)
    path = answer["upload_url"].removeprefix("http://testserver")
    assert direct_upload_body_limit(path) == 123
    assert direct_upload_body_limit(path[:-3] + "xyz") is None  # the view answers a bad token
    assert direct_upload_body_limit("/users/me") is None


# --- take --------------------------------------------------------------------------------------


def test_take_refuses_another_user_a_second_take_and_a_key_never_uploaded(artist, make_user, temp_dir):
    answer = issue(artist)
    with pytest.raises(DirectUploadInvalid, match="nothing has been uploaded"):
        take(artist, answer["key"])
    assert put(answer["upload_url"], PNG).status_code == 200
    with pytest.raises(DirectUploadInvalid, match="no such upload key") as other:
        take(make_user("artist"), answer["key"])
    assert other.value.status_code == 400 and other.value.extra == {"field": "key"}
    take(artist, answer["key"])
    with pytest.raises(DirectUploadInvalid, match="used already"):
        take(artist, answer["key"])
    for junk in ("", "../etc/passwd", "f" * 40):
        with pytest.raises(DirectUploadInvalid, match="no such upload key"):
            take(artist, junk)


def test_a_rolled_back_take_can_be_taken_again(artist, temp_dir):
    answer = issue(artist)
    put(answer["upload_url"], PNG)
    with pytest.raises(RuntimeError), transaction.atomic():
        direct_upload_take(user_id=artist.pk, key=answer["key"])
        raise RuntimeError("the caller failed")
    assert take(artist, answer["key"]).file.read() == PNG


# --- S3: the presigned POST ----------------------------------------------------------------------


def post_to_bucket(answer, body: bytes) -> requests.Response:
    """The browser's multipart POST: the policy's fields first, the file last."""
    return requests.post(answer["upload_url"], data=answer["fields"],
                         files={"file": ("photo.png", body, "image/png")}, timeout=30)


def test_s3_issue_is_a_presigned_post_for_exactly_one_key_and_size(artist, s3_temp_storage):
    answer = issue(artist, size=len(PNG))
    assert answer["method"] == "POST" and answer["upload_url"].startswith(s3_temp_storage.endpoint)
    assert answer["fields"]["key"] == f"tmp-originals/direct/{answer['key']}"
    policy = json.loads(base64.b64decode(answer["fields"]["policy"]))
    assert ["content-length-range", 1, len(PNG)] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert {"key": answer["fields"]["key"]} in policy["conditions"]


def test_s3_post_then_take(artist, s3_temp_storage, temp_dir, django_capture_on_commit_callbacks):
    answer = issue(artist)
    assert post_to_bucket(answer, PNG).status_code in (200, 201, 204)
    assert objects(s3_temp_storage, temp_dir) == [f"direct/{answer['key']}"]
    with django_capture_on_commit_callbacks(execute=True):
        taken = take(artist, answer["key"])
    assert taken.file.read() == PNG
    assert objects(s3_temp_storage, temp_dir) == []
    with pytest.raises(DirectUploadInvalid, match="used already"):
        take(artist, answer["key"])


def test_s3_an_object_over_its_declared_size_is_refused_when_taken(artist, s3_temp_storage, temp_dir):
    """The moto server does not enforce ``content-length-range`` (AWS, R2 and MinIO do): the take
    does not trust the bucket and refuses, and deletes, an object larger than declared."""
    answer = issue(artist, size=100)
    assert post_to_bucket(answer, PNG).status_code in (200, 201, 204)  # AWS would answer 400 EntityTooLarge
    with pytest.raises(UploadTooLarge):
        take(artist, answer["key"])
    assert objects(s3_temp_storage, temp_dir) == []


def test_s3_a_put_to_the_main_api_is_refused(artist, s3_temp_storage):
    from django.core import signing

    from main_api.media.intake.direct_uploads import TOKEN_SALT

    key = issue(artist)["key"]
    response = put(f"/api/uploads/direct/{signing.dumps({'k': key, 'n': 10}, salt=TOKEN_SALT)}", PNG)
    assert response.status_code == 400


# --- sweep -------------------------------------------------------------------------------------


@pytest.mark.parametrize("storage", ["local", "s3"])
def test_the_sweep_deletes_expired_rows_and_their_objects_only(artist, temp_dir, storage, request):
    bucket = request.getfixturevalue("s3_temp_storage") if storage == "s3" else None
    uploaded, fresh = issue(artist), issue(artist)
    if bucket is None:
        put(uploaded["upload_url"], PNG)
    else:
        post_to_bucket(uploaded, PNG)
    ago = timezone.now() - timedelta(hours=2)
    DirectUpload.objects.filter(key=uploaded["key"]).update(expires_at=ago)
    assert direct_uploads_sweep() == 1
    assert list(DirectUpload.objects.values_list("key", flat=True)) == [fresh["key"]]
    assert objects(bucket, temp_dir) == []
    assert not temp_storage.exists(temp_storage.direct_ref(uploaded["key"]))


def test_the_sweep_command(artist, temp_dir):
    from django.core.management import call_command

    answer = issue(artist)
    DirectUpload.objects.filter(key=answer["key"]).update(expires_at=timezone.now() - timedelta(days=1))
    out = io.StringIO()
    call_command("sweep_direct_uploads", "--dry-run", stdout=out)
    call_command("sweep_direct_uploads", stdout=out)
    assert out.getvalue().splitlines() == ["1 direct upload(s) expired", "deleted 1 expired direct upload(s)"]


def test_the_scheduler_sweeps_direct_uploads_nobody_used(artist, temp_dir):
    from django.core.management import call_command

    stale, fresh = issue(artist), issue(artist)
    put(stale["upload_url"], PNG)
    DirectUpload.objects.filter(key=stale["key"]).update(expires_at=timezone.now() - timedelta(days=1))
    out = io.StringIO()
    call_command("run_scheduler", "--once", stdout=out)
    assert "deleted 1 expired direct upload(s)" in out.getvalue()
    assert list(DirectUpload.objects.values_list("key", flat=True)) == [fresh["key"]]
    assert not temp_storage.exists(temp_storage.direct_ref(stale["key"]))


def test_erasing_the_account_removes_its_direct_uploads_and_their_objects(artist, temp_dir,
                                                                          django_capture_on_commit_callbacks):
    from tests.main_api import support

    answer = issue(artist)
    put(answer["upload_url"], PNG)
    assert temp_storage.exists(temp_storage.direct_ref(answer["key"]))
    with django_capture_on_commit_callbacks(execute=True):
        assert support.client_for(artist).delete("/users/me").status_code == 204
    assert not DirectUpload.objects.exists()
    assert not temp_storage.exists(temp_storage.direct_ref(answer["key"]))
