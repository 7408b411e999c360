"""Helpers shared by the main API tests."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from main_api.users.services import user_token_get

MEDIA_KEY = "media-key-current-0123456789abcdef"
OLD_MEDIA_KEY = "media-key-previous-fedcba9876543210"
MEDIA_ID = "0123456789abcdef0123456789abcdef"
OTHER_MEDIA_ID = "fedcba9876543210fedcba9876543210"


def client_for(user, keyword: str = "Token") -> APIClient:
    """An API client signed in with the user's token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {user_token_get(user=user)}")
    return client


def media_client(key: str = MEDIA_KEY) -> APIClient:
    """An API client that presents a media key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def upload(client: APIClient, path: str = "/users/me", **files: tuple[str, bytes] | tuple[str, bytes, str]):
    """PATCH multipart files: ``field=(name, data[, content_type])``."""
    data = {}
    for field, spec in files.items():
        name, content, *rest = spec
        data[field] = SimpleUploadedFile(name, content, content_type=rest[0] if rest else "image/jpeg")
    return client.patch(path, data, format="multipart")


def make_pending(user, field: str = "profile_image", fmt: str = "JPEG", size: tuple[int, int] = (64, 48)):
    """Upload one image for ``user`` through the service; returns its pending row."""
    from main_api.media.models import Upload
    from main_api.users.services import user_profile_update
    from tests.helpers.images import image_bytes

    before = set(Upload.objects.filter(user=user).values_list("pk", flat=True))
    upload_file = SimpleUploadedFile(f"{field}.{fmt.lower()}", image_bytes(fmt, size))
    user_profile_update(user=user, files={field: upload_file})
    return Upload.objects.filter(user=user).exclude(pk__in=before).get()


def complete_payload(media_id: str = MEDIA_ID, **overrides) -> dict:
    """The media VM's rich completion payload."""
    payload = {
        "media_id": media_id,
        "permanent_url": f"http://vm.example.test/serve/{media_id}",
        "processing_complete": True,
        "ai_enhanced": True,
        "formats_available": ["avif", "webp", "jpeg"],
        "sizes_available": ["thumbnail", "grid", "small", "detail"],
        "ai_analysis": {"dominant_colors": ["#c81e5a"], "quality_score": 0.82, "mood_keywords": ["warm"]},
    }
    payload.update(overrides)
    return payload


def leave_processed(image) -> None:
    """Put a completed upload back the way a crash between the media VM's completion and its
    references, or a version from before references followed completion, leaves one:
    ``processed``, every reference to it still holding its temp path. What the sweeper
    (``replace_temp_urls``, ``run_scheduler``) completes."""
    from django.conf import settings

    from main_api.media.models import Upload
    from main_api.users.references import references_rewrite
    from shared.payloads import smart_url

    image.refresh_from_db()
    assert image.status == Upload.Status.COMPLETE, image.status
    url = smart_url(settings.SMART_MEDIA_BASE_URL, image.media_id)
    references_rewrite(user_id=image.user_id, old=url, new=image.image_path)
    Upload.objects.filter(pk=image.pk).update(status=Upload.Status.PROCESSED)
    image.refresh_from_db()


def assert_nothing_written(user, temp_dir) -> None:
    """A refused upload left no trace: no upload row, no file, no site media, no profile path."""
    from main_api.media.models import Upload
    from main_api.users.models import SiteMedia, UserProfile
    from tests.helpers.files import files_under

    assert Upload.objects.filter(user=user).count() == 0
    assert files_under(temp_dir) == []
    assert SiteMedia.objects.filter(user=user).count() == 0
    profile = UserProfile.objects.get(user=user)
    assert (profile.profile_image_path, profile.header_image_path) == ("", "")
