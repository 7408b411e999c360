"""The profile fields that refer to an image, in one place.

A reference first holds the temp path ``/temp_images/...``; when the media VM's completion is
accepted, ``services.completed_upload_references_follow`` rewrites it to the image's smart URL.
Each upload's ``pending_images.target`` names its field by a :class:`Target` key: the media
app stores the key without knowing what it means.
"""

from __future__ import annotations

from django.db import models

from main_api.users.errors import NO_LOGO
from main_api.users.models import ArtistProfile, PromoterProfile, SiteMedia, User, UserProfile, logo_profile_model


class Target(models.TextChoices):
    """The field that refers to an upload: the value stored in ``pending_images.target``."""

    NONE = "", "None"
    PROFILE_IMAGE = "profile_image", "Profile image"
    HEADER_IMAGE = "header_image", "Header image"
    ARTIST_LOGO = "artist_logo", "Artist logo"
    PROMOTER_LOGO = "promoter_logo", "Promoter logo"
    SITE_MEDIA = "site_media", "Site media"


#: The Target key of each logo-holding profile (which profile a user's logo is in: models.logo_profile_model).
_LOGO_TARGETS: dict[type[models.Model], str] = {
    ArtistProfile: Target.ARTIST_LOGO, PromoterProfile: Target.PROMOTER_LOGO,
}

#: Every (model, column) that may hold an image reference.
REFERENCE_FIELDS: tuple[tuple[type[models.Model], str], ...] = (
    (UserProfile, "profile_image_path"),
    (UserProfile, "header_image_path"),
    (ArtistProfile, "logo_path"),
    (PromoterProfile, "logo_path"),
    (SiteMedia, "media_path"),
)

#: Upload fields whose target does not depend on the user.
_FIELD_TARGETS: dict[str, str] = {
    "profile_image": Target.PROFILE_IMAGE,
    "header_image": Target.HEADER_IMAGE,
    "site_image": Target.SITE_MEDIA,
    "product_image": Target.NONE,
    "event_image": Target.NONE,
}


def target_for_upload(*, user: User, field: str) -> str:
    """The :class:`Target` key of the profile field an upload in ``field`` (one of
    ``UPLOAD_FIELDS``) will be referenced from.

    A ``logo_image`` goes to the artist or promoter profile by the user's type; a community
    user has no logo (:class:`ApplicationError`, 400, naming the field).
    """
    if field == "logo_image":
        model = logo_profile_model(user.user_type)
        if model is not None:
            return _LOGO_TARGETS[model]
        raise NO_LOGO.error({"field": field, "user_type": user.user_type})
    return _FIELD_TARGETS[field]


#: The single field each replacing :class:`Target` names: (model, column). A site image is not
#: here: it adds a ``SiteMedia`` row instead of replacing a value.
_TARGET_FIELDS: dict[str, tuple[type[models.Model], str]] = {
    Target.PROFILE_IMAGE: (UserProfile, "profile_image_path"),
    Target.HEADER_IMAGE: (UserProfile, "header_image_path"),
    Target.ARTIST_LOGO: (ArtistProfile, "logo_path"),
    Target.PROMOTER_LOGO: (PromoterProfile, "logo_path"),
}


def reference_get_for_update(*, user: User, target: str) -> str | None:
    """What the field named by ``target`` holds now (``""`` when empty, or when its profile row
    does not exist yet), its row locked until the caller's transaction ends so that concurrent
    uploads to the same field replace each other in turn; None for a target that replaces
    nothing (``Target.SITE_MEDIA`` adds a row, ``Target.NONE`` refers to nothing).

    Read just before :func:`reference_set` and kept with the upload as its
    ``previous_reference``, which :func:`reference_restore` puts back if the upload fails.
    """
    if target not in _TARGET_FIELDS:
        return None
    model, column = _TARGET_FIELDS[target]
    value = model.objects.select_for_update().filter(user=user).values_list(column, flat=True).first()
    return value or ""


def reference_set(*, user: User, target: str, value: str) -> None:
    """Point the profile field named by the :class:`Target` key ``target`` at ``value`` (a site
    image adds a row; ``Target.NONE`` does nothing)."""
    if target in _TARGET_FIELDS:
        model, column = _TARGET_FIELDS[target]
        model.objects.update_or_create(user=user, defaults={column: value})
    elif target == Target.SITE_MEDIA:
        SiteMedia.objects.create(user=user, media_path=value)


def reference_restore(*, user_id: int, target: str, failed: str, previous: str) -> int:
    """Undo :func:`reference_set` of the failed upload whose temp path is ``failed``: the field
    named by ``target`` goes back to ``previous`` (``""``: empty), and a site image's row is
    removed; the number of fields or rows changed.

    Only what still holds ``failed`` changes, in one conditional ``UPDATE`` (or ``DELETE``): a
    field the user has since pointed at a newer upload is left alone, and a second call
    changes nothing.
    """
    if target in _TARGET_FIELDS:
        model, column = _TARGET_FIELDS[target]
        return model.objects.filter(user_id=user_id, **{column: failed}).update(**{column: previous})
    if target == Target.SITE_MEDIA:
        deleted, _ = SiteMedia.objects.filter(user_id=user_id, media_path=failed).delete()
        return deleted
    return 0


def reference_reapply(*, user_id: int, target: str, upload: str, restored: str) -> int:
    """Undo :func:`reference_restore` when the failed upload whose temp path is ``upload`` is
    retried: the field named by ``target`` points at ``upload`` again if it still holds
    ``restored`` (what the failure gave back; a field the user has since pointed elsewhere is
    left alone), and a site image gets its row back (unless it has one); the number of fields
    or rows changed."""
    if target in _TARGET_FIELDS:
        model, column = _TARGET_FIELDS[target]
        return model.objects.filter(user_id=user_id, **{column: restored}).update(**{column: upload})
    if target == Target.SITE_MEDIA:
        if SiteMedia.objects.filter(user_id=user_id, media_path=upload).exists():
            return 0
        SiteMedia.objects.create(user_id=user_id, media_path=upload)
        return 1
    return 0


def references_rewrite(*, user_id: int, old: str, new: str) -> int:
    """Replace ``old`` by ``new`` in every reference field of the user; the number rewritten."""
    return sum(
        model.objects.filter(user_id=user_id, **{column: old}).update(**{column: new})
        for model, column in REFERENCE_FIELDS
    )


def reference_clear(*, user_id: int, target: str, values: set[str]) -> int:
    """Empty the one field named by ``target`` if it holds one of ``values``, or remove one site
    media row that does (``Target.SITE_MEDIA``); the number changed (0 or 1). For an upload that
    shares its image with another (a duplicate), whose other references must stay."""
    if target in _TARGET_FIELDS:
        model, column = _TARGET_FIELDS[target]
        return model.objects.filter(user_id=user_id, **{f"{column}__in": values}).update(**{column: ""})
    if target == Target.SITE_MEDIA:
        row = SiteMedia.objects.filter(user_id=user_id, media_path__in=values).order_by("-pk").first()
        if row is not None:
            row.delete()
            return 1
    return 0


def references_clear(*, user_id: int, values: set[str]) -> int:
    """Empty every reference field of the user that holds one of ``values`` (a deleted upload's
    temp path and smart URLs) and remove the site media rows that do; the number changed."""
    changed = sum(
        model.objects.filter(user_id=user_id, **{f"{column}__in": values}).update(**{column: ""})
        for model, column in REFERENCE_FIELDS if model is not SiteMedia
    )
    deleted, _ = SiteMedia.objects.filter(user_id=user_id, media_path__in=values).delete()
    return changed + deleted
