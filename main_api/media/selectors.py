"""Reads of ``pending_images``."""

from __future__ import annotations

from pathlib import Path

from django.db.models import QuerySet

from main_api.common.exceptions import NotFoundError
from main_api.media import temp_files
from main_api.media.models import PendingImage
from shared.naming import is_media_id

Status = PendingImage.Status


def pending_images_for_media(*, limit: int) -> QuerySet[PendingImage]:
    """What the media VM should process next: pending rows, oldest first."""
    return PendingImage.objects.filter(status=Status.PENDING).order_by("created_at", "pk")[:limit]


def pending_image_by_media_id(*, media_id: str) -> PendingImage:
    """The processed (or complete) image with ``media_id``; :class:`NotFoundError` otherwise."""
    image = None
    if is_media_id(media_id):
        image = PendingImage.objects.filter(
            media_id=media_id, status__in=(Status.PROCESSED, Status.COMPLETE)
        ).first()
    if image is None:
        raise NotFoundError("no processed image with this media id", {"media_id": media_id})
    return image


def user_pending_images(*, user_id: int, limit: int = 50) -> list[PendingImage]:
    """The user's most recent uploads, newest first."""
    return list(PendingImage.objects.filter(user_id=user_id).order_by("-created_at", "-pk")[:limit])


def temp_image_get(*, url_path: str, user_id: int | None, media_key: bool) -> tuple[PendingImage, Path]:
    """The row and file behind a ``/temp_images/...`` path, if this caller may read it.

    The media key reads every temp file; a user only the ones their own rows name. Anything
    else (another user, no file, a path that is not ours) is a plain not-found, so nobody
    learns which files exist.
    """
    not_found = NotFoundError("Not found.")
    path = temp_files.file_for_url_path(url_path)
    if path is None or (user_id is None and not media_key):
        raise not_found
    image = PendingImage.objects.filter(image_path=url_path).first()
    if image is None or not (media_key or image.user_id == user_id) or not path.is_file():
        raise not_found
    return image, path
