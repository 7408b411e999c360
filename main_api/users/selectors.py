"""Reads of users and profiles: ``GET /users/me``."""

from __future__ import annotations

from dataclasses import dataclass

from main_api.media.failure_reasons import failure_reason_for_owner
from main_api.media.models import Upload
from main_api.media.selectors.uploads import (
    upload_smart_url,
    uploads_by_path,
    uploads_by_smart_url,
    uploads_recent,
)
from main_api.media.upload_object import upload_stage
from main_api.users.models import SiteMedia, User, UserProfile, logo_profile_model


@dataclass(frozen=True)
class PendingEntry:
    """One of the user's recent uploads."""

    id: int
    status: str
    data_type: str
    media_id: str | None
    smart_url: str | None
    created_at: object
    #: Why it failed, in the owner's words (``media.failure_reasons``); None unless failed.
    failure_reason: str | None
    #: The upload field it came in (empty on rows from before it was recorded).
    field: str | None = None
    #: Where processing is (``media.upload_object.upload_stage``): queued, processed or failed.
    stage: str = ""
    #: The id of the earlier upload of the same bytes this one repeats, or None.
    duplicate_of: int | None = None


@dataclass(frozen=True)
class SiteMediaView:
    """One image of the user's site."""

    id: int
    media_path: str


@dataclass(frozen=True)
class ProfileView:
    """A user and their profile as the owner sees it."""

    id: int
    username: str
    user_type: str
    display_name: str
    bio: str
    profile_image_path: str | None
    header_image_path: str | None
    logo_path: str | None
    site_media: list[SiteMediaView]
    pending_images: list[PendingEntry]


def user_profile_get(*, user: User) -> ProfileView:
    """The profile of ``user`` (its profile row is created if missing); image references whose
    upload is processed show its smart URL: a completion rewrites them at once, so this is the
    fallback for a row a crash or an older version left ``processed`` until the sweeper
    (``replace_temp_urls``) completes it,
    and ``pending_images`` lists the user's 50 most recent uploads, a failed one with why it
    failed in words the owner understands (the technical reason stays in the admin)."""
    profile, _ = UserProfile.objects.get_or_create(user=user)
    logo_model = logo_profile_model(user.user_type)
    logo = logo_model.objects.filter(user=user).values_list("logo_path", flat=True).first() if logo_model else None
    sites = list(SiteMedia.objects.filter(user=user).order_by("id"))

    refs = {profile.profile_image_path, profile.header_image_path, logo or "", *(s.media_path for s in sites)}
    refs.discard("")
    by_path = uploads_by_path(user_id=user.pk, image_paths=refs)
    by_path.update(uploads_by_smart_url(user_id=user.pk, values=refs - set(by_path)))

    def shown(value: str | None) -> str | None:
        if not value:
            return None
        image = by_path.get(value)
        return (upload_smart_url(image) if image else None) or value

    return ProfileView(
        id=user.pk,
        username=user.username,
        user_type=user.user_type,
        display_name=profile.display_name,
        bio=profile.bio,
        profile_image_path=shown(profile.profile_image_path),
        header_image_path=shown(profile.header_image_path),
        logo_path=shown(logo),
        site_media=[SiteMediaView(id=s.pk, media_path=shown(s.media_path) or "") for s in sites],
        pending_images=[_pending_entry(image) for image in uploads_recent(user_id=user.pk)],
    )


def _pending_entry(image: Upload) -> PendingEntry:
    """One entry of ``pending_images``; a duplicate shows the state and image of the upload it
    repeats (``duplicate_of``)."""
    source = image.duplicate_of or image
    return PendingEntry(
        id=image.pk,
        status=source.status,
        data_type=image.data_type,
        media_id=source.media_id,
        smart_url=upload_smart_url(source),
        created_at=image.created_at,
        failure_reason=(
            failure_reason_for_owner(source.failure_reason) if source.status == Upload.Status.FAILED else None
        ),
        field=image.field or None,
        stage=upload_stage(source),
        duplicate_of=image.duplicate_of_id,
    )


def user_keeps_location(user_id: int) -> bool:
    """Whether the user ``user_id`` keeps the EXIF GPS position of their photos (their profile's
    ``keep_location``; no profile: no). The media app's location policy (``UsersConfig.ready()``)."""
    return UserProfile.objects.filter(user_id=user_id, keep_location=True).exists()
