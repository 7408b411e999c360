"""Direct uploads: a client sends one file straight to the temp storage, then names it by its key.

1. **Issue** (:func:`direct_upload_issue`, called by the endpoint that wants a file): a
   :class:`~main_api.media.models.DirectUpload` row for one file of a declared type and size,
   bound to the user, valid ``DIRECT_UPLOAD_SECONDS`` (300), and where to send it:

   - ``TEMP_STORAGE=s3``: ``POST`` to the bucket, a presigned POST (``upload_url`` and
     ``fields``: a multipart form, the file last) whose policy fixes the object key, the
     ``Content-Type`` and ``content-length-range`` 1..declared size. The bytes never pass
     through the main API.
   - ``TEMP_STORAGE=local``: ``PUT`` to the main API, ``/api/uploads/direct/<token>``, the raw
     bytes as the body. The token is the key and the size limit signed (``django.core.signing``,
     timestamped): the signature is the credential, as a presigned URL's is, so no session,
     CSRF token or user token is needed. ``main_api.common.asgi.RequestBodyGuard`` caps the body
     at the declared size on the wire (:func:`direct_upload_body_limit`), and
     :func:`direct_upload_receive` again while it writes.

2. **Upload**: the client sends the bytes, once. The object is ``direct/<key>`` in the temp
   storage (``temp_storage.direct_ref``); the key is 40 random hex characters, nothing of it
   chosen by the client.
3. **Take** (:func:`direct_upload_take`, inside the caller's transaction): the bytes as a
   seekable temp file, the row marked consumed, the object deleted once that transaction
   commits. The bytes are judged then (``intake.gate.upload_check``), as every upload's are.
4. **Sweep** (:func:`direct_uploads_sweep`, ``python -m main_api sweep_direct_uploads``): rows
   (and their objects) expired over :data:`SWEEP_GRACE` ago.

Errors are :class:`~main_api.common.exceptions.ApplicationError` subclasses, JSON
``{"message", "extra"}`` with ``extra["field"]`` where one field is at fault.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from rest_framework import status

from main_api.common.error_messages import ErrorMessage
from main_api.common.exceptions import ApplicationError, UploadTooLarge
from main_api.media.errors import (
    DIRECT_EMPTY,
    DIRECT_KEY_EXPIRED,
    DIRECT_KEY_NOT_FOUND,
    DIRECT_KEY_NOTHING,
    DIRECT_KEY_USED,
    DIRECT_URL_EXPIRED,
    DIRECT_URL_INVALID,
    DIRECT_URL_USED,
)
from main_api.media.intake import temp_storage
from main_api.media.intake.gate import declared_content_type, original_name_clean
from main_api.media.intake.multipart import too_large
from main_api.media.models import DirectUpload
from shared.naming import ACCEPTED_TYPES

log = logging.getLogger(__name__)

#: The salt of the PUT tokens: a signature made for anything else never passes as one.
# the module's former name: URLs issued before the move stay valid
TOKEN_SALT = "main_api.media.direct_uploads.put"
#: The path of the main API's PUT, before the token (``urls.py`` routes it).
PUT_PATH_PREFIX = "/api/uploads/direct/"
#: How long after its expiry a row that was not taken is swept, with its object (so that a PUT
#: still streaming at the expiry is not deleted under it; the key itself is refused from its expiry).
SWEEP_GRACE = timedelta(hours=1)
_CHUNK = 256 * 1024


class DirectUploadInvalid(ApplicationError):
    """400: a direct upload key that cannot be taken (unknown, another user's, expired, never
    uploaded, or already used); ``extra["field"]`` is ``key``."""


class DirectUploadUrlInvalid(ApplicationError):
    """403: a PUT token that was not issued here (tampered, or for something else)."""

    status_code = status.HTTP_403_FORBIDDEN


@dataclass(frozen=True)
class TakenUpload:
    """What :func:`direct_upload_take` hands over: ``file``, the bytes in a seekable temp file
    at position 0 (the caller closes it), the cleaned ``original_name``, the declared
    ``content_type`` (the bytes are not judged yet) and the ``size`` in bytes."""

    file: IO[bytes]
    original_name: str
    content_type: str
    size: int


def _limit(row: DirectUpload) -> int:
    return min(int(row.size), int(settings.MAX_UPLOAD_BYTES))


# --- 1. issue ----------------------------------------------------------------------------------


def direct_upload_issue(*, user_id: int, filename: str, content_type: str, size: int, request: Any) -> dict[str, Any]:
    """Issue a single-use direct upload of one file for ``user_id``: ``filename`` (the client's,
    cleaned with ``intake.gate.original_name_clean``), ``content_type`` (one of
    ``shared.naming.ACCEPTED_TYPES``, or what browsers call one: ``intake.gate.declared_content_type``)
    and ``size`` (bytes, 1..``MAX_UPLOAD_BYTES``), the most the
    upload may send. ``request`` (Django's or DRF's) makes the PUT URL absolute.

    Returns ``{"method": "PUT"|"POST", "upload_url": str, "key": str, "expires_at": datetime}``
    and, for ``POST``, ``"fields": {name: value}`` (send them first in a multipart form, then the
    file as ``file``). Raises :class:`ApplicationError` (400) naming ``content_type`` or ``size``,
    :class:`UploadTooLarge` (413) naming ``size`` past ``MAX_UPLOAD_BYTES``.
    """
    declared = declared_content_type(content_type)
    if declared is None:
        raise ApplicationError("content_type must be one of " + ", ".join(sorted(ACCEPTED_TYPES))
                               + " (or image/heic, image/jpg)", {"field": "content_type",
                                                                 "accepted": sorted(ACCEPTED_TYPES)})
    content_type = declared
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ApplicationError("size must be a whole number of bytes, at least 1", {"field": "size"})
    if size > int(settings.MAX_UPLOAD_BYTES):
        raise too_large("size", int(settings.MAX_UPLOAD_BYTES))
    ttl = int(settings.DIRECT_UPLOAD_SECONDS)
    row = DirectUpload.objects.create(
        key=secrets.token_hex(20), user_id=user_id, original_name=original_name_clean(filename),
        content_type=content_type, size=size, expires_at=timezone.now() + timedelta(seconds=ttl),
    )
    answer: dict[str, Any] = {"key": row.key, "expires_at": row.expires_at}
    backend = temp_storage.storage()
    if isinstance(backend, temp_storage.S3TempStorage):
        post = backend.presigned_post(temp_storage.storage_name(temp_storage.direct_ref(row.key)) or "",
                                      content_type=content_type, max_bytes=_limit(row), expires_in=ttl)
        answer.update(method="POST", upload_url=post["url"], fields=post["fields"])
    else:
        token = signing.dumps({"k": row.key, "n": _limit(row)}, salt=TOKEN_SALT)
        answer.update(method="PUT",
                      upload_url=request.build_absolute_uri(reverse("direct-upload", kwargs={"token": token})))
    log.info("direct upload %s issued to user %s (%s, %s bytes, %s)", row.pk, user_id, content_type, size,
             answer["method"])
    return answer


# --- 2. the main API's PUT (local temp storage) ------------------------------------------------


def _token_read(token: str) -> tuple[str, int]:
    """``(key, limit)`` of a PUT token; :class:`GoneError` once expired, else
    :class:`DirectUploadUrlInvalid` when it was not issued here."""
    try:
        value = signing.loads(token, salt=TOKEN_SALT, max_age=int(settings.DIRECT_UPLOAD_SECONDS))
        return str(value["k"]), int(value["n"])
    except signing.SignatureExpired as e:
        raise DIRECT_URL_EXPIRED.error({"field": "token"}) from e
    except (signing.BadSignature, KeyError, TypeError, ValueError) as e:
        raise DirectUploadUrlInvalid(DIRECT_URL_INVALID.message, {"field": "token"}) from e


def direct_upload_body_limit(path: str) -> int | None:
    """The most bytes the body of a request to ``path`` may have when it is a direct upload's
    PUT with a valid token (the declared size, at most ``MAX_UPLOAD_BYTES``); None for any other
    path or token (the usual limits apply; the view answers). For the ASGI body guard."""
    if not path.startswith(PUT_PATH_PREFIX):
        return None
    try:
        return _token_read(path[len(PUT_PATH_PREFIX):].strip("/"))[1]
    except ApplicationError:
        return None


def _counted(body: IO[bytes], limit: int) -> Iterator[bytes]:
    received = 0
    while chunk := body.read(_CHUNK):
        received += len(chunk)
        if received > limit:
            raise too_large("file", limit)
        yield chunk
    if received == 0:
        raise DIRECT_EMPTY.error({"field": "file"})


def direct_upload_receive(*, token: str, body: IO[bytes] | None,
                          content_length: int | None = None) -> tuple[DirectUpload, int]:
    """Store the body of ``PUT /api/uploads/direct/<token>`` as the direct upload's object,
    atomically; returns the row (``uploaded_at`` set) and the bytes received.

    The upload is claimed first (one conditional update: of two PUTs at once, one gets it), then
    the body streams to the temp storage, counted: past the declared size (or
    ``MAX_UPLOAD_BYTES``) it stops with :class:`UploadTooLarge` (413, also straight away when
    ``content_length`` says so) and nothing is left behind; a failed write gives the claim back,
    so the URL can be used again until it expires. Errors: :class:`DirectUploadUrlInvalid` (403)
    for a token not issued here, :class:`GoneError` (410) once it has expired (or was swept),
    :class:`ConflictError` (409) once something was uploaded with it, :class:`ApplicationError`
    (400) for an empty body, and :class:`ApplicationError` (400) under ``TEMP_STORAGE=s3``
    (uploads go to the bucket then).
    """
    key, limit = _token_read(token)
    if temp_storage.is_s3():
        raise ApplicationError("uploads go straight to the bucket here: ask for a new upload URL", {"field": "token"})
    limit = min(limit, int(settings.MAX_UPLOAD_BYTES))
    if content_length is not None and content_length > limit:
        raise too_large("file", limit)
    now = timezone.now()
    claimed = DirectUpload.objects.filter(key=key, uploaded_at__isnull=True, consumed_at__isnull=True,
                                          expires_at__gt=now).update(uploaded_at=now)
    if not claimed:
        row = DirectUpload.objects.filter(key=key).first()
        if row is None or row.expires_at <= now:
            raise DIRECT_URL_EXPIRED.error({"field": "token"})
        raise DIRECT_URL_USED.error({"field": "token"})
    try:
        if body is None:
            raise DIRECT_EMPTY.error({"field": "file"})
        temp_storage.save_chunks(temp_storage.direct_ref(key), _counted(body, limit))
    except BaseException:
        DirectUpload.objects.filter(key=key, uploaded_at=now, consumed_at__isnull=True).update(uploaded_at=None)
        raise
    row = DirectUpload.objects.get(key=key)
    received = temp_storage.size(temp_storage.direct_ref(key)) or 0
    log.info("direct upload %s received (%s bytes)", row.pk, received)
    return row, received


# --- 3. take -----------------------------------------------------------------------------------


def direct_upload_take(*, user_id: int, key: str) -> TakenUpload:
    """The bytes uploaded under ``key`` by ``user_id``, to be used once: the row is locked and
    marked consumed, and the object is deleted when the caller's transaction commits (a
    rolled-back caller leaves both as they were, so the key can be taken again). Call it inside
    the caller's transaction (it opens its own when there is none).

    Raises :class:`DirectUploadInvalid` (400, ``extra["field"] == "key"``) for a key that is
    unknown or another user's (the same answer), already used, past its ``expires_at`` (whether
    or not its bytes arrived in time: the sweep's grace is no extension), or never uploaded
    (nothing in the storage); :class:`UploadTooLarge` (413) when the
    stored object is larger than its declared size or ``MAX_UPLOAD_BYTES`` (a bucket's
    presigned POST is trusted no further than that; the object is deleted).
    """
    def invalid(refusal: ErrorMessage) -> DirectUploadInvalid:
        return DirectUploadInvalid(refusal.message, {"field": "key"})

    if not isinstance(key, str) or temp_storage.storage_name(f"{temp_storage.DIRECT_SUBDIR}/{key}") is None:
        raise invalid(DIRECT_KEY_NOT_FOUND)
    with transaction.atomic():
        row = DirectUpload.objects.select_for_update().filter(key=key).first()
        if row is None or row.user_id != user_id:
            raise invalid(DIRECT_KEY_NOT_FOUND)
        if row.consumed_at is not None:
            raise invalid(DIRECT_KEY_USED)
        if row.expires_at <= timezone.now():  # uploaded in time or not: the key is good for its seconds only
            raise invalid(DIRECT_KEY_EXPIRED)
        ref = temp_storage.direct_ref(key)
        opened = temp_storage.open_stream(ref)
        if opened is None:
            raise invalid(DIRECT_KEY_NOTHING)
        limit = _limit(row)
        spool = tempfile.SpooledTemporaryFile(max_size=int(settings.FILE_UPLOAD_MAX_MEMORY_SIZE))  # noqa: SIM115
        try:
            with opened.file:
                if opened.size > limit:
                    raise too_large("key", limit)
                received = 0
                while chunk := opened.file.read(_CHUNK):
                    received += len(chunk)
                    if received > limit:  # the size said one thing, the bytes another
                        raise too_large("key", limit)
                    spool.write(chunk)
            if received == 0:
                raise invalid(DIRECT_EMPTY)
        except UploadTooLarge:
            spool.close()
            temp_storage.remove(ref)
            log.warning("direct upload %s: the stored object is over its %s bytes: deleted", row.pk, limit)
            raise
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        now = timezone.now()
        row.consumed_at = now
        row.uploaded_at = row.uploaded_at or now
        row.save(update_fields=["consumed_at", "uploaded_at"])
        transaction.on_commit(lambda: temp_storage.remove(ref))
    log.info("direct upload %s taken (%s bytes)", row.pk, received)
    return TakenUpload(file=spool, original_name=row.original_name, content_type=row.content_type, size=received)


# --- 4. sweep ----------------------------------------------------------------------------------


def expired_direct_upload_ids(*, now: datetime | None = None, grace: timedelta = SWEEP_GRACE) -> list[int]:
    """Ids of the direct uploads expired over ``grace`` ago (taken or not), oldest first."""
    cutoff = (now or timezone.now()) - grace
    return list(DirectUpload.objects.filter(expires_at__lt=cutoff).order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def direct_upload_sweep_one(*, upload_id: int, now: datetime | None = None, grace: timedelta = SWEEP_GRACE) -> bool:
    """Delete the direct upload ``upload_id`` and its object if it expired over ``grace`` ago
    (re-checked under the row's lock); True when the row was deleted. A taken row's object is
    normally gone already; it is removed here too in case that removal failed."""
    cutoff = (now or timezone.now()) - grace
    row = DirectUpload.objects.select_for_update().filter(Q(pk=upload_id) & Q(expires_at__lt=cutoff)).first()
    if row is None:
        return False
    removed = temp_storage.remove(temp_storage.direct_ref(row.key))
    row.delete()
    if row.consumed_at is None:
        log.info("direct upload %s expired untaken: deleted%s", upload_id, " with its object" if removed else "")
    return True


def direct_uploads_discard(*, user_id: int) -> int:
    """Delete every direct upload of the user (an account's erasure), their objects once the
    caller's transaction commits (a rolled-back erasure keeps them); the number of rows."""
    keys = list(DirectUpload.objects.filter(user_id=user_id).values_list("key", flat=True))
    DirectUpload.objects.filter(user_id=user_id).delete()
    for key in keys:
        transaction.on_commit(lambda key=key: temp_storage.remove(temp_storage.direct_ref(key)))
    return len(keys)


def direct_uploads_sweep(*, now: datetime | None = None, grace: timedelta = SWEEP_GRACE) -> int:
    """:func:`direct_upload_sweep_one` for each of :func:`expired_direct_upload_ids`, one
    transaction each; the number of rows deleted."""
    return sum(direct_upload_sweep_one(upload_id=upload_id, now=now, grace=grace)
               for upload_id in expired_direct_upload_ids(now=now, grace=grace))
