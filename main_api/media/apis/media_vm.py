"""The API the media VM calls (``/api/media/*``, the media key): the pending list, progress,
completion, cleanup (a failure) and the deletions it erases."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from main_api.common.exceptions import ApplicationError
from main_api.common.schema import MEDIA_VM_ERROR, error_response
from main_api.media.apis.access import MediaKeyApi
from main_api.media.errors import (
    MEDIA_DELETION_NOT_FOUND,
    MEDIA_FAIL_FINISHED,
    MEDIA_UNKNOWN_SIZES,
    MEDIA_UPLOAD_NOT_FOUND,
)
from main_api.media.models import Upload
from main_api.media.selectors.media_vm import media_deletions_open, uploads_for_media_vm_wait
from main_api.media.services.deletion import media_deletion_done
from main_api.media.services.lifecycle import (
    location_kept,
    upload_complete,
    upload_fail,
    upload_progress,
)
from main_api.media.upload_object import upload_owner_name, upload_stage
from shared.naming import is_media_id
from shared.payloads import smart_url
from shared.sizes import BACKGROUNDS, SIZE_NAMES, ImageFormat
from shared.statuses import PROGRESS_STAGES

log = logging.getLogger(__name__)


class PendingUploadsApi(MediaKeyApi):
    """``GET /api/media/pending/all``: pending uploads, each user's oldest first (round-robin
    over users, so one user's backlog never hides another's uploads)."""

    class FilterSerializer(serializers.Serializer):
        limit = serializers.IntegerField(
            min_value=1, max_value=500, required=False,
            help_text="most rows listed (default: the MEDIA_PENDING_LIST_SIZE setting, 100)",
        )
        after = serializers.IntegerField(min_value=0, required=False, help_text="only rows with a larger id")
        wait = serializers.FloatField(
            min_value=0, max_value=30, default=0,
            help_text="long poll: when nothing matches, hold the request up to this many seconds for a new row",
        )
        since = serializers.DateTimeField(
            required=False, help_text="with after: also the rows a retry put back in the queue after this "
            "time (give the `now` of the previous answer; a retried row keeps its older id)")

    class OutputSerializer(serializers.ModelSerializer):
        user_id = serializers.IntegerField()
        keep_location = serializers.SerializerMethodField(
            help_text="whether the owner keeps the GPS position of their photos (profile keep_location): "
            "when false the media VM stores no position at all")
        source_tool = serializers.SerializerMethodField(
            help_text="the tool the upload says made it (dall-e, sora, stable-diffusion, or one the outputs file "
            "adds): the media VM makes its preset's outputs too; null: none")
        watermark = serializers.SerializerMethodField(
            help_text="for an artwork (data_type artwork): the owner's username, which the media VM draws on "
            "the watermarked sizes (display); null for every other data type")

        class Meta:
            model = Upload
            fields = (
                "id", "user_id", "image_path", "original_name", "mime_type", "data_type", "status", "created_at",
                "request_id", "keep_location", "queued_at", "watermark", "source_tool",
            )

        def get_source_tool(self, image: Upload) -> str | None:
            return image.source_tool or None

        def get_watermark(self, image: Upload) -> str | None:
            if image.data_type != Upload.DataTypes.ARTWORK:
                return None
            names: dict[int, str] = self.context.setdefault("owner_names", {})  # one query per user a listing names
            if image.user_id not in names:
                names[image.user_id] = upload_owner_name(image)
            return names[image.user_id]

        def get_keep_location(self, image: Upload) -> bool:
            kept: dict[int, bool] = self.context.setdefault("keep_location", {})
            if image.user_id not in kept:
                kept[image.user_id] = location_kept(image.user_id)
            return kept[image.user_id]

    @extend_schema(
        operation_id="media_pending_all",
        summary="Pending uploads, each user's oldest first, round-robin over users",
        parameters=[FilterSerializer],
        responses={
            200: inline_serializer(
                "PendingList", {"images": OutputSerializer(many=True), "total": serializers.IntegerField(),
                                "now": serializers.DateTimeField(help_text="the main API's time before it "
                                                                 "looked: the next poll's since")}
            ),
            400: OpenApiResponse(MEDIA_VM_ERROR, description="a bad limit, after, wait or since; "
                                 "extra.fields names it"),
            401: MEDIA_VM_ERROR,
        },
        tags=["media VM"],
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        now = timezone.now()
        images = uploads_for_media_vm_wait(
            limit=filters.validated_data.get("limit") or settings.MEDIA_PENDING_LIST_SIZE,
            after=filters.validated_data.get("after"),
            wait=filters.validated_data["wait"],
            since=filters.validated_data.get("since"),
        )
        data = self.OutputSerializer(images, many=True, context={"keep_location": {}, "owner_names": {}}).data
        return Response({"images": data, "total": len(data), "now": serializers.DateTimeField().to_representation(now)})


@extend_schema_serializer(component_name="VariantReport")
class VariantInputSerializer(serializers.Serializer):
    """One variant file of the media VM's completion (``shared.payloads.VariantPayload``)."""

    size = serializers.ChoiceField(choices=list(SIZE_NAMES))
    format = serializers.ChoiceField(choices=[f.value for f in ImageFormat])
    bg = serializers.ChoiceField(choices=list(BACKGROUNDS))
    width = serializers.IntegerField(min_value=1, max_value=1_000_000)
    height = serializers.IntegerField(min_value=1, max_value=1_000_000)
    bytes = serializers.IntegerField(min_value=1)


class CompleteApi(MediaKeyApi):
    """``POST /api/media/complete/{id}``: the media VM's result for one upload."""

    class InputSerializer(serializers.Serializer):
        media_id = serializers.CharField(max_length=32)
        permanent_url = serializers.CharField(max_length=512, required=False, allow_blank=True, default="")
        processing_complete = serializers.BooleanField(required=False, default=True)
        ai_enhanced = serializers.BooleanField(required=False, default=False)
        formats_available = serializers.ListField(
            child=serializers.ChoiceField(choices=[f.value for f in ImageFormat]), required=False, default=list
        )
        sizes_available = serializers.ListField(
            child=serializers.ChoiceField(choices=list(SIZE_NAMES)), required=False, default=list
        )
        ai_analysis = serializers.DictField(required=False, allow_null=True, default=dict)
        variants = VariantInputSerializer(
            many=True, required=False,
            help_text="every variant file made, with its real pixel size (optional: older media VMs leave it out)",
        )

        def validate_media_id(self, value: str) -> str:
            if not is_media_id(value):
                raise serializers.ValidationError("must be 32 lowercase hex characters")
            return value

        def validate_processing_complete(self, value: bool) -> bool:
            if not value:
                raise serializers.ValidationError("a completion must say processing_complete: true")
            return value

    @extend_schema(
        operation_id="media_complete",
        summary="The media VM's result for one upload: the row becomes processed (idempotent)",
        request=InputSerializer,
        responses={
            200: inline_serializer("CompleteResult", {
                "success": serializers.BooleanField(), "imageId": serializers.IntegerField(),
                "media_id": serializers.CharField(), "status": serializers.CharField(),
                "smart_url_preview": serializers.CharField(),
            }),
            400: MEDIA_VM_ERROR, 401: MEDIA_VM_ERROR, 404: error_response(MEDIA_UPLOAD_NOT_FOUND, media_vm=True),
            409: MEDIA_VM_ERROR,
        },
        tags=["media VM"],
    )
    def post(self, request: Request, image_id: str) -> Response:
        unknown = _unknown_sizes(request.data)
        if unknown:
            # the two services were configured with different outputs files: fail the upload
            # where ops see it (the admin, its failure_reason) instead of a 400 only the VM reads
            reason = MEDIA_UNKNOWN_SIZES.message.format(sizes=", ".join(unknown))
            log.error("complete of pending image %s refused: %s", image_id, reason)
            with contextlib.suppress(ApplicationError):  # already failed, finished or gone: nothing to mark
                upload_fail(image_id=int(image_id), reason=reason)
            raise ApplicationError(reason, {"field": "sizes_available", "unknown": unknown})
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        image = upload_complete(
            image_id=int(image_id),
            media_id=data["media_id"],
            permanent_url=data["permanent_url"],
            formats_available=data["formats_available"],
            sizes_available=data["sizes_available"],
            ai_analysis=data["ai_analysis"] or {},
            variants=[dict(v) for v in data["variants"]] if "variants" in data else None,
        )
        return Response(
            {
                "success": True,
                "imageId": image.pk,
                "media_id": image.media_id,
                # What the media VM's call achieved, also when a later URL replacement has
                # since moved the row on to "complete".
                "status": Upload.Status.PROCESSED.value,
                "smart_url_preview": smart_url(settings.SMART_MEDIA_BASE_URL, image.media_id),
            }
        )


def _unknown_sizes(data: Any) -> list[str]:
    """The size names of a completion's ``sizes_available`` and ``variants`` that no size or
    preset output of this main API's outputs configuration has (``shared.sizes.SIZE_NAMES``)."""
    if not isinstance(data, dict):
        return []
    named = list(data.get("sizes_available") or []) if isinstance(data.get("sizes_available"), list) else []
    variants = data.get("variants") if isinstance(data.get("variants"), list) else []
    named += [v.get("size") for v in variants if isinstance(v, dict)]
    return sorted({n for n in named if isinstance(n, str) and n not in SIZE_NAMES})


class ProgressApi(MediaKeyApi):
    """``POST /api/media/progress/{id}``: the media VM reached a stage with an upload."""

    @extend_schema_serializer(component_name="ProgressReport")
    class InputSerializer(serializers.Serializer):
        stage = serializers.ChoiceField(choices=[s.value for s in PROGRESS_STAGES])
        media_id = serializers.CharField(max_length=32, required=False, allow_null=True, default=None,
                                         help_text="the image's media id; recorded from thumbnail_ready on")
        reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="",
                                       help_text="free text for the logs")

        def validate_media_id(self, value: str | None) -> str | None:
            if value is not None and not is_media_id(value):
                raise serializers.ValidationError("not a media id (32 lowercase hex digits)")
            return value

    @extend_schema(
        operation_id="media_progress",
        summary="The media VM reached a stage (monotonic: a late or repeated report changes nothing)",
        request=InputSerializer,
        responses={
            200: inline_serializer("ProgressResult", {"id": serializers.IntegerField(),
                                                      "stage": serializers.CharField(),
                                                      "changed": serializers.BooleanField()}),
            400: MEDIA_VM_ERROR, 401: MEDIA_VM_ERROR, 404: error_response(MEDIA_UPLOAD_NOT_FOUND, media_vm=True),
            409: MEDIA_VM_ERROR,
        },
        tags=["media VM"],
    )
    def post(self, request: Request, image_id: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = upload_progress(image_id=int(image_id), stage=data["stage"],
                                                 media_id=data["media_id"])
        return Response({"id": result.image.pk, "stage": upload_stage(result.image),
                         "changed": result.changed})


class CleanupApi(MediaKeyApi):
    """``DELETE /api/media/cleanup/{id}``: the media VM gave up; fail the row, drop the file."""

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="media_cleanup",
        summary="The media VM gave up: the row fails and its temp file is deleted",
        request=InputSerializer,
        responses={
            200: inline_serializer("CleanupResult", {"success": serializers.BooleanField(),
                                                     "message": serializers.CharField()}),
            401: MEDIA_VM_ERROR, 404: error_response(MEDIA_UPLOAD_NOT_FOUND, media_vm=True),
            409: error_response(MEDIA_FAIL_FINISHED, media_vm=True),
        },
        tags=["media VM"],
    )
    def delete(self, request: Request, image_id: str) -> Response:
        serializer = self.InputSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        image = upload_fail(image_id=int(image_id), reason=serializer.validated_data["reason"])
        return Response({"success": True, "message": f"image {image.pk} marked failed and its temp file removed"})


DELETION_EXAMPLE = {"id": 7, "media_id": "3f2a9c0d4b5e6f708192a3b4c5d6e7f8", "main_api_id": 42,
                    "requested_at": "2026-05-04T10:21:07.512Z"}


class MediaDeletionsApi(MediaKeyApi):
    """``GET /api/media/deletions``: deleted uploads the media VM has not erased yet
    (``shared.payloads.DeletionListPayload``), oldest first."""

    class FilterSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=500, default=100)

    @extend_schema_serializer(component_name="MediaDeletion")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(help_text="the deletion's id, for POST /api/media/deletions/{id}/done")
        media_id = serializers.CharField(allow_null=True,
                                         help_text="the image's media id; null when it was never reported processed")
        main_api_id = serializers.IntegerField(source="upload_id",
                                               help_text="the deleted upload's id (as in /api/media/pending/all)")
        requested_at = serializers.DateTimeField()

    @extend_schema(
        operation_id="media_deletions",
        summary="Deleted uploads to erase from the media VM (not yet acknowledged), oldest first",
        parameters=[FilterSerializer],
        responses={
            200: OpenApiResponse(
                inline_serializer("MediaDeletionList", {"deletions": OutputSerializer(many=True)}),
                examples=[OpenApiExample("one to erase", value={"deletions": [DELETION_EXAMPLE]})],
            ),
            400: MEDIA_VM_ERROR, 401: MEDIA_VM_ERROR,
        },
        tags=["media VM"],
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        deletions = media_deletions_open(limit=filters.validated_data["limit"])
        return Response({"deletions": self.OutputSerializer(deletions, many=True).data})


class MediaDeletionDoneApi(MediaKeyApi):
    """``POST /api/media/deletions/{id}/done``: the media VM has erased the image (idempotent)."""

    @extend_schema(
        operation_id="media_deletion_done",
        summary="The media VM erased a deleted upload (idempotent)",
        request=None,
        responses={
            200: OpenApiResponse(
                inline_serializer("MediaDeletionDone", {"success": serializers.BooleanField(),
                                                        "id": serializers.IntegerField(),
                                                        "done_at": serializers.DateTimeField()}),
                examples=[OpenApiExample("acknowledged", value={"success": True, "id": 7,
                                                                "done_at": "2026-05-04T10:21:09.004Z"})],
            ),
            401: MEDIA_VM_ERROR, 404: error_response(MEDIA_DELETION_NOT_FOUND, media_vm=True),
        },
        tags=["media VM"],
    )
    def post(self, request: Request, deletion_id: str) -> Response:
        deletion = media_deletion_done(deletion_id=int(deletion_id))
        return Response({"success": True, "id": deletion.pk,
                         "done_at": serializers.DateTimeField().to_representation(deletion.done_at)})
