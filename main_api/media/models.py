"""``pending_images``: one row per uploaded file, from upload to smart URL."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from shared.data_types import DataType
from shared.statuses import PendingStatus


class Upload(models.Model):
    """An upload on its way: ``pending -> processed -> complete``, or ``pending -> failed``."""

    class Status(models.TextChoices):
        PENDING = PendingStatus.PENDING.value, "Pending"
        PROCESSED = PendingStatus.PROCESSED.value, "Processed"
        COMPLETE = PendingStatus.COMPLETE.value, "Complete"
        FAILED = PendingStatus.FAILED.value, "Failed"

    class DataTypes(models.TextChoices):
        PRODUCT = DataType.PRODUCT.value, "Product"
        PROFILE = DataType.PROFILE.value, "Profile"
        EVENT = DataType.EVENT.value, "Event"
        LOGO = DataType.LOGO.value, "Logo"
        SITES = DataType.SITES.value, "Sites"
        ARTWORK = DataType.ARTWORK.value, "Artwork"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads")
    #: ``/temp_images/{profiles|sites}/{name}``: the URL path of the temp original.
    #: Null for a duplicate (``duplicate_of``), which has no temp original of its own.
    image_path = models.CharField(max_length=255, unique=True, null=True, blank=True)
    #: The client's file name, sanitised; stored for people, never used for a path.
    original_name = models.CharField(max_length=255, blank=True, default="")
    mime_type = models.CharField(max_length=32)
    permanent_url = models.CharField(max_length=512, blank=True, default="")
    thumbnail_url = models.CharField(max_length=512, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    data_type = models.CharField(max_length=16, choices=DataTypes.choices)
    #: The multipart field it came in (a key of ``shared.data_types.UPLOAD_FIELDS``); empty on
    #: the rows before it was recorded whose data type has several fields (profile, header).
    field = models.CharField(max_length=32, blank=True, default="")
    #: Which field refers to this image, as a key of the app that owns that field (e.g.
    #: ``profile_image``, ``main_api.users.references.Target``); empty when none does. Opaque
    #: here: stored with the upload and copied to a re-processing, never interpreted.
    target = models.CharField(max_length=64, blank=True, default="")
    #: What the reference named by ``target`` held before this upload replaced it (empty: it was
    #: empty); NULL when the upload replaced nothing (a site image adds a row, a re-processing
    #: moves references only once it is processed). Opaque here like ``target``: stored with the
    #: upload and handed back to the owning app when the upload fails, never interpreted.
    previous_reference = models.TextField(null=True, blank=True)
    media_id = models.CharField(max_length=32, unique=True, null=True, blank=True)
    ai_analysis = models.JSONField(null=True, blank=True)
    formats_available = models.JSONField(default=list, blank=True)
    sizes_available = models.JSONField(default=list, blank=True)
    #: Every variant file the media VM made (``shared.payloads.VariantPayload``: size, format,
    #: bg, real width/height, bytes); empty when the VM did not say (an older VM).
    variants = models.JSONField(default=list, blank=True)
    #: The tool the upload says made it (``shared.sizes.SOURCE_TOOLS``: dall-e, sora,
    #: stable-diffusion, or one the outputs file adds); empty: none. Its preset's outputs
    #: (``normal``, ``hq``) are made too.
    source_tool = models.CharField(max_length=32, blank=True, default="")
    #: The background a logo's smart URLs serve by default: ``original`` or ``removed``
    #: (``shared.sizes.BACKGROUNDS``); empty for the default, the original.
    background = models.CharField(max_length=16, blank=True, default="")
    #: The last stage the media VM reported of this round (``shared.statuses.PROGRESS_STAGES``:
    #: retrieved, thumbnail_ready, analysed, variants_ready); empty until the first report. The
    #: upload's ``stage`` is derived from it and the status (``upload_object.upload_stage``).
    progress = models.CharField(max_length=24, blank=True, default="")
    #: When a retry put the row back in the queue (null: never): the media VM's poll finds such
    #: a row by this (``pending/all?since=``), since its id is older than the VM's id cursor.
    queued_at = models.DateTimeField(null=True, blank=True)
    #: Processing rounds: 1, plus one per retry of a failed upload by its owner or the admin.
    attempts = models.PositiveIntegerField(default=1)
    processed_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True, default="")
    #: ``X-Request-ID`` of the upload: the media VM logs it with each step and sends it back.
    request_id = models.CharField(max_length=64, null=True, blank=True)
    #: Set on a re-processing: the finished row whose original this one processes again.
    #: The earlier row keeps serving until this one's URL replacement takes over its references.
    reprocess_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reprocessed_as"
    )
    #: SHA-256 of the uploaded bytes (hex), computed while the upload streamed in; empty on the
    #: rows from before it was recorded.
    sha256 = models.CharField(max_length=64, blank=True, default="")
    #: Set when the same user uploaded the same bytes (same ``sha256``, same data type) while
    #: this earlier upload was pending or finished: no second processing job is made. The
    #: duplicate is ``complete`` at once (nothing is left to do for it), has no temp original of
    #: its own, and shows the earlier upload's state and image; deleting the earlier upload
    #: deletes its duplicates too.
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="duplicates"
    )

    class Meta:
        db_table = "pending_images"
        indexes = [
            models.Index(fields=["status"], name="pending_images_status_idx"),
            models.Index(fields=["created_at"], name="pending_images_created_idx"),
            # the media VM's poll: status = pending, oldest first
            models.Index(fields=["status", "created_at"], name="pending_images_poll_idx"),
            models.Index(fields=["request_id"], name="pending_images_request_idx"),
            models.Index(fields=["processed_at"], name="pending_images_processed_idx"),
            models.Index(fields=["user", "sha256"], name="pending_images_sha256_idx"),
            models.Index(fields=["status", "queued_at"], name="pending_images_requeued_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.data_type} {self.status}"

    @property
    def is_finished(self) -> bool:
        """Processed or complete: the media VM's work is done and must not be destroyed."""
        return self.status in (self.Status.PROCESSED, self.Status.COMPLETE)



class MediaDeletion(models.Model):
    """A deleted upload the media VM must erase: its original under ``bulk/``, every variant,
    the analysis and the fingerprint. Written in the transaction that deletes the upload's row,
    listed to the VM (``GET /api/media/deletions``) until it acknowledges it
    (``POST /api/media/deletions/{id}/done`` sets ``done_at``); the row is kept afterwards as
    the record of the erasure (ids and times only, nothing of the image)."""

    #: The image's id on the media VM; null when the upload was never reported processed (the
    #: VM finds its work by ``upload_id`` then).
    media_id = models.CharField(max_length=32, null=True, blank=True)
    #: The id the deleted ``pending_images`` row had (the VM's ``main_api_id``); not a foreign
    #: key: the row is gone. Its column keeps the name it was created with, ``pending_image_id``.
    upload_id = models.BigIntegerField(db_column="pending_image_id")
    requested_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "media_deletions"
        indexes = [models.Index(fields=["done_at", "id"], name="media_deletions_open_idx")]

    def __str__(self) -> str:
        return f"deletion #{self.pk} of upload {self.upload_id}"


class UploadEvent(models.Model):
    """A change of one upload, as its owner's event stream sends it (``GET /api/uploads/events``,
    ``event: upload``): the upload object at that moment. ``id`` increases, so a client that
    reconnects with ``Last-Event-ID`` is sent what it missed; kept ``UPLOAD_EVENT_RETENTION_HOURS``
    (at least 24) for that, then swept."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="upload_events")
    #: The upload's id (not a foreign key: an upload's events outlive nothing, but a deletion
    #: must not wait on them).
    upload_id = models.BigIntegerField()
    #: The upload object (``upload_object.upload_detail``) as JSON.
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "upload_events"
        indexes = [models.Index(fields=["user", "id"], name="upload_events_user_idx")]

    def __str__(self) -> str:
        return f"event #{self.pk} of upload {self.upload_id}"


class DirectUpload(models.Model):
    """A one-object upload straight to the temp storage (``main_api.media.intake.direct_uploads``):
    issued to a user for one file of a declared type and size, valid until ``expires_at``,
    uploaded once (``uploaded_at``), then taken once by the endpoint it was issued for
    (``consumed_at``). The object waits in the temp storage as ``direct/<key>``; an unconsumed
    row past its expiry is swept with its object."""

    #: 40 lowercase hex characters, generated: the object's name and the client's handle.
    key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="direct_uploads")
    #: The client's file name, cleaned (``intake.gate.original_name_clean``); never used for a path.
    original_name = models.CharField(max_length=255, blank=True, default="")
    #: The declared type (one of ``shared.naming.ACCEPTED_TYPES``); the bytes are judged when taken.
    content_type = models.CharField(max_length=32)
    #: The declared size in bytes: the upload may not be larger (nor larger than ``MAX_UPLOAD_BYTES``).
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    #: When the bytes arrived through the main API's PUT; null for a presigned POST to the
    #: bucket (S3 tells nobody) until it is taken.
    uploaded_at = models.DateTimeField(null=True, blank=True)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "direct_uploads"
        indexes = [models.Index(fields=["consumed_at", "expires_at"], name="direct_uploads_sweep_idx")]

    def __str__(self) -> str:
        return f"direct upload #{self.pk} of user {self.user_id}"
