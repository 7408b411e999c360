"""Writes to users and profiles: creating users, updating a profile with its uploads."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from rest_framework.authtoken.models import Token

from main_api.media import temp_files
from main_api.media.services import pending_image_create, upload_check
from main_api.users.models import ArtistProfile, PromoterProfile, User, UserProfile
from main_api.users.references import reference_set, target_for_upload


@transaction.atomic
def user_create(*, username: str, user_type: str, password: str | None = None) -> User:
    """A user with its profile rows (and its artist or promoter profile)."""
    user = User(username=username, user_type=User.Type(user_type))
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    UserProfile.objects.create(user=user)
    if user.user_type == User.Type.ARTIST:
        ArtistProfile.objects.create(user=user)
    elif user.user_type == User.Type.PROMOTER:
        PromoterProfile.objects.create(user=user)
    return user


def user_token_get(*, user: User) -> str:
    """The user's API token, created on first use."""
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def user_profile_update(
    *,
    user: User,
    files: Mapping[str, UploadedFile],
    display_name: str | None = None,
    bio: str | None = None,
    request_id: str | None = None,
) -> None:
    """Apply ``PATCH /users/me``: text fields and uploads, all together or not at all.

    Every file is checked before anything is written. Files and rows are then written in
    one transaction; if any step (or the commit) fails, the files already written are
    removed. ``request_id`` is stored on each new ``pending_images`` row. Not decorated
    with ``@transaction.atomic`` because the removal has to wrap the commit too.
    """
    targets = {field: target_for_upload(user=user, field=field) for field in files}
    uploads = [upload_check(field=field, file=file, name=file.name) for field, file in files.items()]
    with temp_files.removed_on_error() as written, transaction.atomic():
        for upload in uploads:
            image = pending_image_create(
                user=user, upload=upload, target=targets[upload.field], written=written, request_id=request_id
            )
            reference_set(user=user, target=image.target, value=image.image_path)
        changes = {
            name: value for name, value in (("display_name", display_name), ("bio", bio)) if value is not None
        }
        if changes:
            UserProfile.objects.update_or_create(user=user, defaults=changes)
