"""Writes to ``artworks``: create (with its image's upload, from a direct upload's key), update
(hide, re-slug), delete (through the upload's deletion, so the media VM erases everything)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from rest_framework import status

from main_api.artworks.errors import (
    ARTWORK_CREATE_RACE,
    ARTWORK_LIMIT,
    TAG_NOT_STRING,
    TAG_TOO_LONG,
    TOO_MANY_TAGS,
)
from main_api.artworks.models import SLUG_MAX_CHARS, Artwork
from main_api.artworks.selectors import artwork_get_for_owner, artwork_limit_for
from main_api.common.exceptions import ApplicationError, InvalidImage
from main_api.media.domain_events import UploadCompleted, UploadDeleted
from main_api.media.intake import temp_storage
from main_api.media.intake.direct_uploads import direct_upload_take
from main_api.media.intake.gate import upload_check
from main_api.media.selectors.maintenance import upload_runs
from main_api.media.services.deletion import upload_delete
from main_api.media.services.lifecycle import upload_create
from main_api.users.references import Target

log = logging.getLogger(__name__)

#: The upload field an artwork's image is recorded under (``shared.data_types.OTHER_UPLOAD_FIELDS``).
ARTWORK_FIELD = "artwork"
_SPACES = re.compile(r"\s+")


def limit_message(limit: int) -> str:
    """What a user at their artwork limit is told."""
    return ARTWORK_LIMIT.message.format(artworks=f"{limit} artwork{'' if limit == 1 else 's'}")


class ArtworkLimitReached(ApplicationError):
    """The user has as many artworks as their limit allows (429)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS


@dataclass(frozen=True)
class ArtworkFields:
    """What the owner writes about an artwork (validated by the API's serializer)."""

    title: str
    description: str = ""
    materials: str = ""
    dimensions: str = ""
    created_date: date | None = None
    category: str = "other"
    tags: tuple[str, ...] = ()


def artwork_tags_clean(tags: list[Any]) -> list[str]:
    """Tags trimmed (inner runs of white space made one space), lower-cased, deduplicated in
    their first order; empty ones dropped. Raises :class:`ApplicationError` (400, field ``tags``)
    for a tag that is not a string or longer than ``ARTWORK_TAG_MAX_CHARS``, or for more than
    ``ARTWORK_MAX_TAGS`` tags after deduplication."""
    cleaned: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise TAG_NOT_STRING.error({"field": "tags"})
        tag = _SPACES.sub(" ", tag).strip().lower()
        if not tag:
            continue
        if len(tag) > settings.ARTWORK_TAG_MAX_CHARS:
            raise TAG_TOO_LONG.error({"field": "tags", "tag": tag[:80]}, max_chars=settings.ARTWORK_TAG_MAX_CHARS)
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > settings.ARTWORK_MAX_TAGS:
        raise TOO_MANY_TAGS.error({"field": "tags", "count": len(cleaned)}, max_tags=settings.ARTWORK_MAX_TAGS)
    return cleaned


def artwork_slug_new(*, user_id: int, title: str, exclude_id: int | None = None) -> str:
    """A slug for ``title`` unique among the user's artworks: ``slugify(title)`` (ASCII, at most
    ``SLUG_MAX_CHARS``; ``artwork`` when nothing of the title is left), then ``-2``, ``-3``, ...
    on a clash. ``exclude_id``: an artwork whose own slug does not count (a re-slug). The caller
    holds the user's lock (:func:`artwork_create`), so two requests cannot pick the same one."""
    base = slugify(title)[: SLUG_MAX_CHARS - 8].strip("-") or "artwork"
    taken = set(
        Artwork.objects.filter(user_id=user_id, slug__startswith=base).exclude(pk=exclude_id)
        .values_list("slug", flat=True)
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _user_lock(user_id: int) -> None:
    """Lock the user's row until the transaction ends: the artwork count and the slugs are then
    read by one request at a time (MySQL/MariaDB: a row lock; SQLite: its transactions are
    ``IMMEDIATE``, one writer at a time, see settings)."""
    get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True).get()


def artwork_create(*, user_id: int, key: str, fields: ArtworkFields, request_id: str | None = None,
                   source_tool: str = "") -> Artwork:
    """Create an artwork and its image's upload in one transaction, from the direct upload
    ``key`` (``POST /api/artworks/upload-url``, then the upload itself).

    The uploaded bytes pass the same gate as every upload (``intake.gate.upload_check``); the upload
    row (data type ``artwork``) is queued for the media VM, which makes the artwork sizes and
    watermarks ``display`` with the user's name. Raises :class:`ArtworkLimitReached` (429) when
    the user has ``artwork_limit`` artworks already, ``ApplicationError`` (400) for a key that is
    unknown, not the user's, expired, missing or already used (``direct_upload_take``), and
    ``InvalidImage`` (400) when the bytes are not an image we take; nothing is created then and
    a written temp original is removed. ``source_tool``: the tool that made the image (checked by
    the API; empty: none), whose preset outputs it gets too.
    """
    with temp_storage.removed_on_error() as written, transaction.atomic():
        _user_lock(user_id)
        limit = artwork_limit_for(user_id=user_id)
        if Artwork.objects.filter(user_id=user_id).count() >= limit:
            raise ArtworkLimitReached(limit_message(limit), {"limit": limit})
        taken = direct_upload_take(user_id=user_id, key=key)
        try:
            upload = upload_check(field=ARTWORK_FIELD, file=taken.file, name=taken.original_name)
        except InvalidImage as e:  # the request names the file by its key: the frontend's input
            raise InvalidImage(e.message, {**e.extra, "field": "key"}, status_code=e.status_code) from e
        image = upload_create(
            user_id=user_id, upload=upload, target=Target.NONE, written=written, request_id=request_id,
            source_tool=source_tool,
        )
        try:
            with transaction.atomic():
                artwork = Artwork.objects.create(
                    user_id=user_id, upload=image, slug=artwork_slug_new(user_id=user_id, title=fields.title),
                    title=fields.title, description=fields.description, materials=fields.materials,
                    dimensions=fields.dimensions, created_date=fields.created_date, category=fields.category,
                    tags=list(fields.tags),
                )
        except IntegrityError as e:  # a slug taken in spite of the lock: a database without row locks
            raise ARTWORK_CREATE_RACE.error() from e
    log.info("artwork %s (%s) created with upload %s", artwork.pk, artwork.slug, image.pk)
    return artwork


@transaction.atomic
def artwork_update(*, artwork_id: int, user_id: int, changes: dict[str, Any], regenerate_slug: bool = False) -> Artwork:
    """Apply the owner's ``changes`` (any of the :class:`ArtworkFields` names, and ``hidden``) to
    their artwork. The slug stays when the title changes, unless ``regenerate_slug`` asks for a
    new one from the (new) title. Raises ``NotFoundError`` for another user's or an unknown id."""
    artwork = artwork_get_for_owner(artwork_id=artwork_id, user_id=user_id, lock=True)
    allowed = {"title", "description", "materials", "dimensions", "created_date", "category", "tags", "hidden"}
    for name, value in changes.items():
        if name in allowed:
            setattr(artwork, name, list(value) if name == "tags" else value)
    if regenerate_slug:
        _user_lock(user_id)
        artwork.slug = artwork_slug_new(user_id=user_id, title=artwork.title, exclude_id=artwork.pk)
    artwork.save()
    return artwork


@transaction.atomic
def artwork_delete(*, artwork_id: int, user_id: int) -> None:
    """Delete the owner's artwork and its image everywhere: the upload is deleted as
    ``DELETE /api/uploads/{id}`` deletes one (the media VM erases its original, variants,
    analysis and fingerprint), which deletes the artwork row and every other run of its image
    with it (:func:`artwork_runs_delete`). ``NotFoundError`` for another user's or an unknown id."""
    artwork = artwork_get_for_owner(artwork_id=artwork_id, user_id=user_id, lock=True)
    upload_delete(image_id=artwork.upload_id, user_id=user_id)
    log.info("artwork %s (%s) deleted with upload %s", artwork_id, artwork.slug, artwork.upload_id)


def artwork_runs_delete(event: UploadDeleted) -> None:
    """Connected to ``upload.deleted`` (``main_api.media.domain_events``): when an
    artwork's upload is deleted (``DELETE /api/artworks/{id}``, ``DELETE /api/uploads/{id}``,
    the admin, an erasure), every other run of its image goes too, the one an admin
    re-processing replaced and one still pending, so that no watermarked copy outlives the
    artwork. Another run of an image deleted alone leaves the artwork be."""
    image = event.upload
    if not Artwork.objects.filter(upload_id=image.pk).exists():
        return
    others = upload_runs(upload_id=image.pk)[1:]
    for upload_id in others:
        upload_delete(image_id=upload_id, user_id=None, missing_ok=True)
    if others:
        log.info("artwork upload %s deleted with its other run(s) %s", image.pk, ", ".join(map(str, others)))


def artwork_upload_follow_reprocessing(event: UploadCompleted) -> None:
    """Connected to ``upload.completed`` (``main_api.media.domain_events``): when
    a re-processing of an artwork's image completes, the artwork moves to the new run, so its
    URLs and status follow it (the run it replaced keeps serving until then, and stays an
    upload of the owner's)."""
    image = event.upload
    if image.reprocess_of_id is None:
        return
    moved = Artwork.objects.filter(upload_id=image.reprocess_of_id).update(upload=image)
    if moved:
        log.info("artwork of upload %s now shows its re-processing %s", image.reprocess_of_id, image.pk)
