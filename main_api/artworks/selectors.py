"""Reads of ``artworks``: the owner's, the public ones (active only), status and image URLs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from main_api.artworks.errors import ARTIST_NOT_FOUND, ARTWORK_NOT_FOUND, PUBLIC_ARTWORK_NOT_FOUND
from main_api.artworks.models import Artwork
from main_api.media.models import Upload
from main_api.media.upload_object import upload_detail
from main_api.users.models import UserProfile
from shared.payloads import smart_url
from shared.sizes import ARTWORK_SIZES

Status = Upload.Status

#: ``Artwork.status`` values (derived, see :func:`artwork_status`).
PROCESSING, ACTIVE, HIDDEN, FAILED = "processing", "active", "hidden", "failed"
STATUSES = (PROCESSING, ACTIVE, HIDDEN, FAILED)
_FINISHED = (Status.PROCESSED, Status.COMPLETE)


def artwork_limit_for(*, user_id: int) -> int:
    """How many artworks the user may have: their profile's ``artwork_limit``, else the
    ``ARTWORK_LIMIT`` setting."""
    own = UserProfile.objects.filter(user_id=user_id).values_list("artwork_limit", flat=True).first()
    return settings.ARTWORK_LIMIT if own is None else own


def artwork_status(artwork: Artwork) -> str:
    """``failed`` when its image failed; else ``hidden`` while the owner hides it; else
    ``active`` once its image is processed, ``processing`` before."""
    upload = artwork.upload
    if upload.status == Status.FAILED:
        return FAILED
    if artwork.hidden:
        return HIDDEN
    return ACTIVE if upload.status in _FINISHED else PROCESSING


def artwork_image_urls(artwork: Artwork) -> dict[str, str | None]:
    """``{"icon_url", "thumbnail_url", "display_url"}``: the smart URLs (through
    ``/api/images``) of the artwork's sizes once its image is processed, each None before.
    Never a temp path."""
    upload = artwork.upload
    ready = upload.status in _FINISHED and bool(upload.media_id)
    return {
        f"{size.name}_url": smart_url(settings.SMART_MEDIA_BASE_URL, upload.media_id, size.name) if ready else None
        for size in ARTWORK_SIZES
    }


def artwork_get_for_owner(*, artwork_id: int, user_id: int, lock: bool = False) -> Artwork:
    """The user's artwork ``artwork_id`` (with its upload); ``lock``: locked until the
    transaction ends. Raises :class:`NotFoundError` for an unknown id or another user's."""
    rows = Artwork.objects.select_related("upload")
    if lock:
        rows = rows.select_for_update()
    artwork = rows.filter(pk=artwork_id, user_id=user_id).first()
    if artwork is None:
        raise ARTWORK_NOT_FOUND.error({"id": artwork_id})
    return artwork


def artworks_of_owner(*, user_id: int) -> QuerySet[Artwork]:
    """Every artwork of the user, any status, newest first."""
    return Artwork.objects.filter(user_id=user_id).select_related("upload").order_by("-created_at", "-id")


def artworks_public(*, username: str) -> QuerySet[Artwork]:
    """The active artworks of the user named ``username`` (not hidden, image processed), newest
    first. Raises :class:`NotFoundError` when there is no active user of that name."""
    from django.contrib.auth import get_user_model

    user_id = get_user_model().objects.filter(username=username, is_active=True).values_list("pk", flat=True).first()
    if user_id is None:
        raise ARTIST_NOT_FOUND.error({"username": username})
    return (Artwork.objects.filter(user_id=user_id, hidden=False, upload__status__in=_FINISHED)
            .exclude(upload__media_id=None).select_related("upload", "user").order_by("-created_at", "-id"))


def artwork_public_get(*, username: str, slug: str) -> Artwork:
    """The active artwork ``slug`` of ``username``; :class:`NotFoundError` when there is none
    (hidden, still processing and failed ones included)."""
    artwork = artworks_public(username=username).filter(slug=slug).first()
    if artwork is None:
        raise PUBLIC_ARTWORK_NOT_FOUND.error({"username": username, "slug": slug})
    return artwork


def artwork_fields(artwork: Artwork) -> dict[str, Any]:
    """What the owner's and the public views share: the fields the owner wrote, the slug, the
    image's URLs (:func:`artwork_image_urls`) and ``created_at``."""
    return {
        "slug": artwork.slug, "title": artwork.title, "description": artwork.description,
        "materials": artwork.materials, "dimensions": artwork.dimensions, "created_date": artwork.created_date,
        "category": artwork.category, "tags": list(artwork.tags or []), **artwork_image_urls(artwork),
        "created_at": artwork.created_at,
    }


def artwork_owner_detail(artwork: Artwork) -> dict[str, Any]:
    """The owner's view (``apis.ArtworkOutputSerializer``): :func:`artwork_fields`, the id, the
    derived status, ``hidden``, the image's upload object and ``updated_at``."""
    return {
        "id": artwork.pk, **artwork_fields(artwork), "status": artwork_status(artwork), "hidden": artwork.hidden,
        "upload": upload_detail(artwork.upload), "updated_at": artwork.updated_at,
    }


def artwork_public_detail(artwork: Artwork) -> dict[str, Any]:
    """What anyone may see of an active artwork: :func:`artwork_fields`, the artist's username
    and the image's placeholder; never the upload, a temp path or the original."""
    analysis = artwork.upload.ai_analysis if isinstance(artwork.upload.ai_analysis, dict) else {}
    placeholder = analysis.get("placeholder")
    return {
        **artwork_fields(artwork), "artist": artwork.user.username,
        "placeholder": placeholder if isinstance(placeholder, dict) else None,
    }
