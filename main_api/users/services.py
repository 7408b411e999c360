"""Writes to users and profiles: creating users, updating a profile with its uploads, and
keeping the profile references to uploads true as the uploads fail, are retried, complete and
are deleted.

Uploads themselves are the media app's: this module checks them with its upload gate
(``main_api.media.intake.gate``), writes them with its services and reads them with its selectors.
The media app never imports this module: the ``*_references_*`` functions below are connected to
its upload events (``main_api.media.domain_events``) in ``UsersConfig.ready()``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from rest_framework.authtoken.models import Token

from main_api.media.domain_events import UploadCompleted, UploadDeleted, UploadFailed, UploadRetried
from main_api.media.errors import UNKNOWN_UPLOAD_FIELD
from main_api.media.intake import temp_storage, url_import
from main_api.media.intake.direct_uploads import direct_uploads_discard
from main_api.media.intake.gate import uploads_check
from main_api.media.models import Upload
from main_api.media.selectors.uploads import (
    upload_duplicate_find,
    upload_reference_value,
    upload_smart_url,
    uploads_by_path,
)
from main_api.media.services.deletion import upload_delete
from main_api.media.services.lifecycle import (
    upload_create,
    upload_duplicate_create,
)
from main_api.users.models import User, UserProfile, logo_profile_model
from main_api.users.references import (
    reference_clear,
    reference_get_for_update,
    reference_reapply,
    reference_restore,
    reference_set,
    references_clear,
    references_rewrite,
    target_for_upload,
)
from shared.data_types import UPLOAD_FIELDS
from shared.payloads import smart_url

log = logging.getLogger(__name__)


@transaction.atomic
def user_create(*, username: str, user_type: str, password: str | None = None) -> User:
    """A user with its profile rows (and its artist or promoter profile).

    Raises Django's ``ValidationError`` for a bad or taken user name.
    """
    user = User(username=username, user_type=User.Type(user_type))
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    UserProfile.objects.create(user=user)
    logo_model = logo_profile_model(user.user_type)
    if logo_model is not None:
        logo_model.objects.create(user=user)
    return user


def user_password_set(*, user: User, password: str) -> None:
    """Give ``user`` the password ``password`` (for the session sign-in of the admin and the demo site)."""
    user.set_password(password)
    user.save(update_fields=["password"])


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
    digests: Mapping[str, str] | None = None,
    source_tool: str = "",
) -> dict[str, Upload]:
    """Apply ``PATCH /users/me``: text fields and uploads (``{upload field: file}``), all
    together or not at all. Returns the new ``pending_images`` row of each upload by field.

    Every file is checked before anything is written (``ApplicationError`` for a logo of a
    community user, ``InvalidImage`` for a file the upload gate refuses, both naming the
    field). Files and rows are then written in one transaction; if any step (or the commit)
    fails, the files already written are removed. ``request_id`` is stored on each new
    ``pending_images`` row, and so is what the field held before the upload replaced it
    (``previous_reference``), for :func:`failed_upload_references_restore`. Not decorated with
    ``@transaction.atomic`` because the removal has to wrap the commit too.

    Duplicates: a file whose bytes (SHA-256, ``digests`` as the upload handler computed them
    while the body streamed in, ``{field: hex}``; computed here when missing) and data type
    match an earlier pending or finished upload of the user makes no second processing job:
    its row is a duplicate of the earlier one and its field refers to the earlier image.

    ``source_tool``: the tool the request's files say made them (``shared.sizes.SOURCE_TOOLS``,
    checked by the API; empty: none): each new upload also gets that tool's preset outputs.
    """
    targets = {field: target_for_upload(user=user, field=field) for field in files}
    uploads = uploads_check(files, digests)
    created: dict[str, Upload] = {}
    with temp_storage.removed_on_error() as written, transaction.atomic():
        for upload in uploads:
            target = targets[upload.field]
            previous = reference_get_for_update(user=user, target=target)
            earlier = upload_duplicate_find(user_id=user.pk, sha256=upload.sha256, data_type=upload.data_type.value)
            if earlier is not None:
                image = upload_duplicate_create(
                    user_id=user.pk, upload=upload, of=earlier, target=target, previous_reference=previous,
                )
                reference_set(user=user, target=image.target, value=upload_reference_value(earlier))
                created[upload.field] = image
                continue
            image = upload_create(
                user_id=user.pk, upload=upload, target=target, written=written, request_id=request_id,
                previous_reference=previous, source_tool=source_tool,
            )
            reference_set(user=user, target=image.target, value=image.image_path or "")
            created[upload.field] = image
        changes = {
            name: value for name, value in (("display_name", display_name), ("bio", bio)) if value is not None
        }
        if changes:
            UserProfile.objects.update_or_create(user=user, defaults=changes)
    return created


def user_upload_from_url(*, user: User, url: str, field: str, request_id: str | None = None,
                         source_tool: str = "") -> Upload:
    """Import the image at ``url`` as an upload of ``field`` (one of ``UPLOAD_FIELDS``) of
    ``PATCH /users/me``: the main API fetches it (``main_api.media.intake.url_import``: http(s) only, the
    address checked on every connection, at most 3 redirects, ``MAX_UPLOAD_BYTES`` and
    ``URL_IMPORT_TIMEOUT_SECONDS``), then :func:`user_profile_update` takes it as it takes an
    uploaded file: the same gate, naming, duplicate detection and profile reference. Returns its
    new ``pending_images`` row (a duplicate's row when the user uploaded these bytes before).
    ``source_tool`` as for :func:`user_profile_update`.

    Raises, with nothing stored: ``ApplicationError`` (400) for a field that takes no upload for
    this user (checked before anything is fetched), ``intake.url_import.UrlImportError`` (400 a URL or
    address refused, 502 the server failed, 504 the deadline), ``UploadTooLarge`` (413),
    ``InvalidImage`` (400, the gate's verdict).
    """
    if field not in UPLOAD_FIELDS:
        raise UNKNOWN_UPLOAD_FIELD.error({"field": field, "accepted": sorted(UPLOAD_FIELDS)}, field=field)
    target_for_upload(user=user, field=field)  # a community user's logo: refused before fetching
    fetched = url_import.url_fetch(url=url)
    with fetched.file:
        upload = UploadedFile(fetched.file, name=fetched.name, size=fetched.size)
        created = user_profile_update(user=user, files={field: upload}, request_id=request_id,
                                      digests={field: fetched.sha256}, source_tool=source_tool)
    return created[field]


# --- failed uploads --------------------------------------------------------------------------


def failed_upload_references_restore(event: UploadFailed) -> int:
    """Give back what the failed upload ``image`` replaced: the field it set goes back to its
    ``previous_reference`` (empty when there was none) and a site image's row is removed, but
    only where the field still holds the upload's temp path (a newer upload is never undone).
    Returns the number of fields or rows changed; a second call changes nothing.

    Connected to ``upload.failed``: it runs inside the transaction that fails the row,
    whichever path failed it (the media VM's cleanup, the admin action, ``sweep_stuck``).
    """
    image = event.upload
    restored = reference_restore(
        user_id=image.user_id, target=image.target, failed=_referred_by(image), previous=_reference_before(image)
    )
    if restored:
        log.info("pending image %s failed: %s reference(s) to it restored", image.pk, restored)
    return restored


def retried_upload_references_reapply(event: UploadRetried) -> int:
    """Point the field a failed upload gave back at the upload again now that it is retried
    (``image`` is pending again): only where the field still holds what the failure restored
    (:func:`_reference_before`), so a field the user has since changed is left alone; a site
    image's row comes back. Returns the number of fields or rows changed.

    Connected to ``upload.retried``, run inside the transaction of the retry.
    """
    image = event.upload
    changed = reference_reapply(
        user_id=image.user_id, target=image.target, upload=_referred_by(image), restored=_reference_before(image)
    )
    if changed:
        log.info("pending image %s retried: %s reference(s) point at it again", image.pk, changed)
    return changed


def _referred_by(image: Upload) -> str:
    """The value a field holds while it refers to the unfinished upload ``image``: its temp
    path, or for a duplicate the temp path of the upload it repeats."""
    if image.duplicate_of is not None:
        return upload_reference_value(image.duplicate_of)
    return image.image_path or ""


def _reference_before(image: Upload) -> str:
    """What ``image``'s field should hold again: its ``previous_reference``, resolved so that it
    is never a dead temp path. When that is the temp path of an earlier upload that has failed
    too, its own previous value is taken instead (repeatedly); when the earlier upload is
    complete, the URL replacement has already run past it, so its smart URL is written."""
    value = image.previous_reference or ""
    seen = {image.image_path}
    while value:
        if value in seen:  # a loop of failed uploads (never written so; but never spin on one)
            return ""
        seen.add(value)
        earlier = uploads_by_path(user_id=image.user_id, image_paths={value}).get(value)
        if earlier is None:  # a smart URL, or anything else that is not one of our temp paths
            return value
        if earlier.status == Upload.Status.FAILED:
            value = earlier.previous_reference or ""
        elif earlier.status == Upload.Status.COMPLETE:
            return upload_smart_url(earlier) or value
        else:  # pending or processed: its URL replacement is still to come and will rewrite it
            return value
    return ""


# --- deletion --------------------------------------------------------------------------------


def deleted_upload_references_clear(event: UploadDeleted) -> int:
    """Empty every field of the owner that points at the upload being deleted (its temp path
    or its smart URL, with or without ``bg=removed``) and remove the site media rows that do;
    the number changed. Connected to ``upload.deleted``, run inside the transaction of the
    deletion.

    A duplicate shares its image with the upload it repeats: only its own field (or one site
    media row) is cleared, and only where it still refers to that image."""
    image = event.upload
    if image.duplicate_of is not None:
        cleared = reference_clear(user_id=image.user_id, target=image.target,
                                  values=_upload_values(image.duplicate_of))
        if cleared:
            log.info("duplicate upload %s deleted: %s reference(s) to it cleared", image.pk, cleared)
        return cleared
    cleared = references_clear(user_id=image.user_id, values=_upload_values(image))
    if cleared:
        log.info("upload %s deleted: %s reference(s) to it cleared", image.pk, cleared)
    return cleared


def _upload_values(image: Upload) -> set[str]:
    """Every value by which a field may refer to the upload ``image``: its temp path and its
    smart URLs (with and without ``bg=removed``)."""
    values = {image.image_path} if image.image_path else set()
    if image.media_id:
        url = smart_url(settings.SMART_MEDIA_BASE_URL, image.media_id)
        values |= {url, f"{url}&bg=removed"}
    return values


@dataclass
class ErasureResult:
    """What :func:`user_erase` did: the user's id and how many uploads it deleted."""

    user_id: int
    uploads: int


@transaction.atomic
def user_erase(*, user: User) -> ErasureResult:
    """Erase the account on its owner's request: every upload deleted as ``DELETE
    /api/uploads/{id}`` deletes one (references cleared, temp original removed once committed,
    a deletion request recorded for the media VM, which erases the originals, variants,
    analyses and fingerprints on its next poll), its direct uploads and their objects, then the
    user with its profiles, artworks and token.
    One transaction: all of it or nothing. Logs the user's id and the counts, nothing of the
    content (no name, no file)."""
    user_id = user.pk
    # newest first: a duplicate goes before the upload it repeats (whose deletion would take it along)
    image_ids = list(Upload.objects.filter(user_id=user_id).order_by("-id").values_list("id", flat=True))
    for image_id in image_ids:
        upload_delete(image_id=image_id, user_id=user_id, missing_ok=True)
    direct_uploads_discard(user_id=user_id)  # uploaded straight to storage, never made an artwork
    user.delete()
    log.info("user %s erased on request: %s upload(s) deleted, as many deletions requested of the media VM",
             user_id, len(image_ids))
    return ErasureResult(user_id=user_id, uploads=len(image_ids))


# --- URL replacement -------------------------------------------------------------------------


def completed_upload_references_follow(event: UploadCompleted) -> int:
    """Rewrite every reference of the owner to the completed upload's temp path to its smart
    URL; a re-processing also takes over what still refers to the run it re-did (its temp path
    or its smart URL), while a field the user has since pointed elsewhere is left alone. Returns
    the number of references rewritten.

    Connected to ``upload.completed``: it runs in the transaction that accepts the media VM's
    completion (and in the sweep of rows left ``processed``), so the references follow at once.
    """
    image = event.upload
    url = smart_url(settings.SMART_MEDIA_BASE_URL, image.media_id)
    rewritten = references_rewrite(user_id=image.user_id, old=image.image_path, new=url)
    previous = image.reprocess_of
    if previous is not None:
        for old in {previous.image_path, smart_url(settings.SMART_MEDIA_BASE_URL, previous.media_id or "")}:
            rewritten += references_rewrite(user_id=image.user_id, old=old, new=url)
    log.info("pending image %s complete: %s reference(s) now %s", image.pk, rewritten, url)
    return rewritten
