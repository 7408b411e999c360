"""Helpers shared by the main API tests."""

from __future__ import annotations

from pathlib import Path

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


def files_under(root: Path) -> list[Path]:
    """Every file below ``root`` (hidden partial files included)."""
    return sorted(p for p in Path(root).rglob("*") if p.is_file()) if Path(root).exists() else []
