"""The owner's view of their uploads: lists, one upload, duplicates, the references' values,
the nearest images."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from main_api.media.errors import SIMILAR_SCOPE_ALL, UPLOAD_NOT_FOUND
from main_api.media.models import Upload
from main_api.media.selectors.media_vm import upload_by_media_id
from main_api.media.upload_object import _image_url, upload_served_background
from main_api.media.vm_client import similar_get
from shared.naming import is_media_id
from shared.payloads import smart_url
from shared.sizes import default_size_for

Status = Upload.Status


def upload_smart_url(image: Upload) -> str | None:
    """The smart URL of a processed (or complete) image, else None; with ``&bg=removed`` for a
    logo whose owner chose its removed background (a URL of its own, so no cache keeps the
    other version under it)."""
    if image.is_finished and image.media_id:
        return _image_url(image.media_id, default_size_for(image.data_type), upload_served_background(image))
    return None


def uploads_by_smart_url(*, user_id: int, values: set[str]) -> dict[str, Upload]:
    """The user's processed uploads that ``values`` (profile references) name by smart URL
    (``{SMART_MEDIA_BASE_URL}/{media_id}?...``), by value."""
    base = settings.SMART_MEDIA_BASE_URL.rstrip("/") + "/"
    ids = {value[len(base):].split("?", 1)[0]: value for value in values if value.startswith(base)}
    ids = {media_id: value for media_id, value in ids.items() if is_media_id(media_id)}
    if not ids:
        return {}
    rows = Upload.objects.filter(user_id=user_id, media_id__in=ids, status__in=(Status.PROCESSED,
                                                                                        Status.COMPLETE))
    return {ids[image.media_id]: image for image in rows if image.media_id}


def uploads_by_path(*, user_id: int, image_paths: set[str]) -> dict[str, Upload]:
    """The user's rows whose temp path is one of ``image_paths``, by that path."""
    rows = Upload.objects.filter(user_id=user_id, image_path__in=image_paths)
    return {image.image_path: image for image in rows}


def uploads_recent(*, user_id: int, limit: int = 50) -> list[Upload]:
    """The user's most recent uploads, newest first."""
    rows = Upload.objects.filter(user_id=user_id).select_related("duplicate_of")
    return list(rows.order_by("-created_at", "-pk")[:limit])


# --- similar images ----------------------------------------------------------------------------


def similar_images_get(
    *, media_id: str, limit: int, scope: str, min_similarity: float | None = None, user_id: int | None = None
) -> dict[str, Any]:
    """The nearest images of the processed image ``media_id``, from the media VM's ``/similar``.

    ``user_id`` is the signed-in user, None for the media key. A user sees only their own
    image (anyone else's is a :class:`NotFoundError`, as for one that does not exist) and only
    ``scope="user"`` (``"all"`` is an :class:`ApplicationError` 403). The VM's errors are
    ``vm_client``'s (502/504; its 400 and 404 become ours).

    Returns ``{"media_id", "scope", "min_similarity", "results", "count"}``; each result is the
    VM's (``media_id``, ``user_id``, ``data_type``, ``similarity``, ``phash_distance``,
    ``duplicate``) plus ``url``, its smart thumbnail URL.
    """
    upload_by_media_id(media_id=media_id, user_id=user_id)
    if user_id is not None:
        if scope != "user":
            raise SIMILAR_SCOPE_ALL.error({"scope": scope})
    params = {"limit": str(limit), "scope": scope}
    if min_similarity is not None:
        params["min_similarity"] = str(min_similarity)
    body = similar_get(media_id=media_id, params=params)
    results = [
        {**r, "url": smart_url(settings.SMART_MEDIA_BASE_URL, r["media_id"], "thumbnail")}
        for r in body.get("results") or [] if isinstance(r, dict) and is_media_id(str(r.get("media_id", "")))
    ]
    return {"media_id": media_id, "scope": body.get("scope", scope), "min_similarity": body.get("min_similarity"),
            "results": results, "count": len(results)}


def uploads_for_user(*, user_id: int, status: str | None = None, data_type: str | None = None
                     ) -> QuerySet[Upload]:
    """The user's uploads, newest first (``created_at``, then id), optionally of one ``status``
    and one ``data_type`` (already validated by the caller)."""
    rows = Upload.objects.filter(user_id=user_id).select_related("duplicate_of")
    if status is not None:  # a duplicate has the status of the upload it repeats
        rows = rows.filter(Q(status=status, duplicate_of__isnull=True) | Q(duplicate_of__status=status))
    if data_type is not None:
        rows = rows.filter(data_type=data_type)
    return rows.order_by("-created_at", "-pk")


def upload_get(*, upload_id: int, user_id: int | None) -> Upload:
    """The upload ``upload_id`` of the user ``user_id`` (None: the media key, which reads any).
    Someone else's upload is a :class:`NotFoundError`, exactly as one that does not exist."""
    rows = Upload.objects.filter(pk=upload_id)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    image = rows.first()
    if image is None:
        raise UPLOAD_NOT_FOUND.error({"id": upload_id})
    return image


def upload_duplicate_find(*, user_id: int, sha256: str, data_type: str) -> Upload | None:
    """The user's newest upload of the same bytes (``sha256``, hex) and data type that is pending
    or finished and is not itself a duplicate (a re-processing, which carries the hash, is newer
    than the upload it re-does): a new upload of those bytes repeats it. None when there is none
    (a failed upload is no model: the same bytes are processed again). Locked until the caller's
    transaction ends, so that it cannot complete or fail between this and the new reference."""
    if not sha256:
        return None
    return (Upload.objects.select_for_update().filter(
        user_id=user_id, sha256=sha256, data_type=data_type, duplicate_of__isnull=True,
        status__in=(Status.PENDING, Status.PROCESSED, Status.COMPLETE),
    ).order_by("-pk").first())


def upload_reference_value(image: Upload) -> str:
    """What a profile field refers to ``image`` (not a duplicate) by: its smart URL once it is
    complete, else its temp path (the URL replacement rewrites that when it completes)."""
    if image.status == Status.COMPLETE and image.media_id:
        return smart_url(settings.SMART_MEDIA_BASE_URL, image.media_id)
    return image.image_path or ""


def default_background_for_media(*, media_id: str) -> str | None:
    """What ``/api/images/{media_id}`` serves without ``bg=``: ``"removed"`` for a logo whose
    owner chose it (:func:`upload_served_background`), else None (the media VM's default)."""
    if not is_media_id(media_id):
        return None
    image = Upload.objects.filter(media_id=media_id, data_type=Upload.DataTypes.LOGO,
                                        background="removed").first()
    return upload_served_background(image) if image is not None else None
