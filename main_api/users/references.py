"""The profile fields that refer to an image, in one place.

A reference first holds the temp path ``/temp_images/...``; once the media VM is done,
the URL replacement (``services.temp_urls_replace``) rewrites it to the image's smart URL.
Each upload's ``pending_images.target`` names its field by a :class:`Target` key: the media
app stores the key without knowing what it means.
"""

from __future__ import annotations

from django.db import models

from main_api.common.exceptions import ApplicationError
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
        raise ApplicationError(
            "only artist and promoter users have a logo",
            {"field": field, "user_type": user.user_type},
        )
    return _FIELD_TARGETS[field]


def reference_set(*, user: User, target: str, value: str) -> None:
    """Point the profile field named by the :class:`Target` key ``target`` at ``value`` (a site
    image adds a row; ``Target.NONE`` does nothing)."""
    if target == Target.PROFILE_IMAGE:
        UserProfile.objects.update_or_create(user=user, defaults={"profile_image_path": value})
    elif target == Target.HEADER_IMAGE:
        UserProfile.objects.update_or_create(user=user, defaults={"header_image_path": value})
    elif target in (Target.ARTIST_LOGO, Target.PROMOTER_LOGO):
        model = next(m for m, t in _LOGO_TARGETS.items() if t == target)
        model.objects.update_or_create(user=user, defaults={"logo_path": value})
    elif target == Target.SITE_MEDIA:
        SiteMedia.objects.create(user=user, media_path=value)


def references_rewrite(*, user_id: int, old: str, new: str) -> int:
    """Replace ``old`` by ``new`` in every reference field of the user; the number rewritten."""
    return sum(
        model.objects.filter(user_id=user_id, **{column: old}).update(**{column: new})
        for model, column in REFERENCE_FIELDS
    )
