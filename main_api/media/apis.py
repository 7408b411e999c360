"""HTTP views of pending images: the media VM's API, temp originals, the public image URL."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import exceptions as drf_exceptions
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from main_api.common.authentication import (
    HasMediaKey,
    MediaClient,
    MediaKeyAuthentication,
    UserTokenAuthentication,
)
from main_api.common.exceptions import ApplicationError, NotFoundError, error_body
from main_api.common.pagination import NewestFirstPagination
from main_api.common.schema import ERROR
from main_api.common.views import read_only_view
from main_api.media import direct_uploads, events, selectors, services, vm_client
from main_api.media.models import PendingImage
from shared.naming import is_media_id
from shared.payloads import smart_url
from shared.sizes import BACKGROUNDS, SIZE_NAMES, ImageFormat
from shared.statuses import PROGRESS_STAGES, UploadStage

log = logging.getLogger(__name__)


class MediaKeyApi(APIView):
    """Base of the views only the media VM may call."""

    authentication_classes = [MediaKeyAuthentication]
    permission_classes = [HasMediaKey]


class MediaKeyOrUser(BasePermission):
    """The media key, or a signed-in user (the view then limits them to their own images)."""

    message = "A user token or the media key is required."

    def has_permission(self, request: Request, view) -> bool:
        return isinstance(request.auth, MediaClient) or bool(request.user and request.user.is_authenticated)


class PendingImagesApi(MediaKeyApi):
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
            model = PendingImage
            fields = (
                "id", "user_id", "image_path", "original_name", "mime_type", "data_type", "status", "created_at",
                "request_id", "keep_location", "queued_at", "watermark", "source_tool",
            )

        def get_source_tool(self, image: PendingImage) -> str | None:
            return image.source_tool or None

        def get_watermark(self, image: PendingImage) -> str | None:
            if image.data_type != PendingImage.DataTypes.ARTWORK:
                return None
            names: dict[int, str] = self.context.setdefault("owner_names", {})  # one query per user a listing names
            if image.user_id not in names:
                names[image.user_id] = selectors.upload_owner_name(image)
            return names[image.user_id]

        def get_keep_location(self, image: PendingImage) -> bool:
            kept: dict[int, bool] = self.context.setdefault("keep_location", {})
            if image.user_id not in kept:
                kept[image.user_id] = services.location_kept(image.user_id)
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
            401: ERROR,
        },
        tags=["media VM"],
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        now = timezone.now()
        images = selectors.pending_images_for_media_wait(
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
            400: ERROR, 401: ERROR, 404: ERROR, 409: ERROR,
        },
        tags=["media VM"],
    )
    def post(self, request: Request, image_id: str) -> Response:
        unknown = _unknown_sizes(request.data)
        if unknown:
            # the two services were configured with different outputs files: fail the upload
            # where ops see it (the admin, its failure_reason) instead of a 400 only the VM reads
            reason = (f"the media VM made sizes this main API does not know ({', '.join(unknown)}): the two "
                      "services' outputs configurations (MEDIA_OUTPUTS_FILE) differ")
            log.error("complete of pending image %s refused: %s", image_id, reason)
            with contextlib.suppress(ApplicationError):  # already failed, finished or gone: nothing to mark
                services.pending_image_fail(image_id=int(image_id), reason=reason)
            raise ApplicationError(reason, {"field": "sizes_available", "unknown": unknown})
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        image = services.pending_image_complete(
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
                "status": PendingImage.Status.PROCESSED.value,
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
            400: ERROR, 401: ERROR, 404: ERROR, 409: ERROR,
        },
        tags=["media VM"],
    )
    def post(self, request: Request, image_id: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.pending_image_progress(image_id=int(image_id), stage=data["stage"],
                                                 media_id=data["media_id"])
        return Response({"id": result.image.pk, "stage": selectors.upload_stage(result.image),
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
            401: ERROR, 404: ERROR, 409: ERROR,
        },
        tags=["media VM"],
    )
    def delete(self, request: Request, image_id: str) -> Response:
        serializer = self.InputSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        image = services.pending_image_fail(image_id=int(image_id), reason=serializer.validated_data["reason"])
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
        main_api_id = serializers.IntegerField(source="pending_image_id",
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
            400: ERROR, 401: ERROR,
        },
        tags=["media VM"],
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        deletions = selectors.media_deletions_open(limit=filters.validated_data["limit"])
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
            401: ERROR, 404: OpenApiResponse(ERROR, description="no such deletion"),
        },
        tags=["media VM"],
    )
    def post(self, request: Request, deletion_id: str) -> Response:
        deletion = services.media_deletion_done(deletion_id=int(deletion_id))
        return Response({"success": True, "id": deletion.pk,
                         "done_at": serializers.DateTimeField().to_representation(deletion.done_at)})


class AnalysisApi(APIView):
    """``GET /api/media/analysis/{media_id}``: the AI analysis stored with a processed image, to
    the media key or to the image's owner (their user token); anyone else gets a 404."""

    authentication_classes = [MediaKeyAuthentication, UserTokenAuthentication]
    permission_classes = [MediaKeyOrUser]

    @extend_schema(
        operation_id="media_analysis",
        summary="The analysis stored with a processed image (its owner, or the media key)",
        responses={
            200: inline_serializer("AnalysisResult", {"success": serializers.BooleanField(),
                                                      "analysis": serializers.DictField()}),
            401: ERROR,
            404: OpenApiResponse(ERROR, description="no such processed image (or another user's)"),
        },
        tags=["images"],
    )
    def get(self, request: Request, media_id: str) -> Response:
        image = selectors.pending_image_by_media_id(media_id=media_id, user_id=_user_id(request))
        return Response({"success": True, "analysis": image.ai_analysis or {}})


class FirstRendererNegotiation(BaseContentNegotiation):
    """Always JSON for errors: a downloader's ``Accept: image/*`` must not turn a 404 into a 406."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


#: The policy an original is sent with: nothing loads, nothing runs, no frame holds it.
ORIGINAL_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"


class TempImageApi(APIView):
    """``GET /temp_images/<subdir>/<name>``: a temp original, to its owner or the media key,
    as a download (``Content-Disposition: attachment``) with ``nosniff`` and :data:`ORIGINAL_CSP`:
    the file is the upload byte for byte, so serving carries the guarantee that nothing in it
    runs (the upload gate's polyglot filter is the second line)."""

    authentication_classes = [MediaKeyAuthentication, UserTokenAuthentication]
    permission_classes = [AllowAny]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        operation_id="temp_image_get",
        summary="A temp original, to its owner (user token) or to the media key; 404 to anyone else",
        responses={(200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY), 404: ERROR},
        tags=["uploads"],
    )
    def get(self, request: Request, path: str) -> FileResponse:
        user = request.user
        image, original = selectors.temp_image_get(
            url_path=f"/temp_images/{path}",
            user_id=user.pk if user.is_authenticated else None,
            media_key=isinstance(request.auth, MediaClient),
        )
        # a local file, or the bucket's object streamed through as the caller reads it
        response = FileResponse(original.file, content_type=image.mime_type, as_attachment=True,
                                filename=image.original_name or path.rsplit("/", 1)[-1])
        response["Content-Length"] = str(original.size)
        response["Cache-Control"] = "private, no-store"
        # The original is stored byte for byte: whatever it carries, no browser renders or runs it.
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = ORIGINAL_CSP
        return response

    def handle_exception(self, exc: Exception) -> Response:
        # A bad token is answered like no access at all: nobody learns that a file exists.
        if isinstance(exc, drf_exceptions.AuthenticationFailed | drf_exceptions.NotAuthenticated):
            exc = NotFoundError("Not found.")
        return super().handle_exception(exc)


class DirectUploadApi(APIView):
    """``PUT /api/uploads/direct/<token>``: the bytes of a direct upload, with local temp storage
    (``main_api.media.direct_uploads``). The signed token is the credential: no session, no
    CSRF token, no user token."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    parser_classes: list[type] = []  # the body is the file itself, read as a stream

    @extend_schema(
        operation_id="direct_upload_put",
        summary="Send a direct upload's file (the URL from an endpoint that issues one)",
        description=(
            "The raw bytes of one file as the body, at most the size declared when the URL was issued; "
            "once, before the URL expires. Then give the upload's key to the endpoint that issued it."
        ),
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={
            200: inline_serializer("DirectUploadReceived", {
                "key": serializers.CharField(),
                "size": serializers.IntegerField(help_text="bytes received (at most the size declared)"),
            }),
            400: OpenApiResponse(ERROR, description="an empty body"),
            403: OpenApiResponse(ERROR, description="a URL that was not issued here (tampered)"),
            409: OpenApiResponse(ERROR, description="the URL has been used already"),
            410: OpenApiResponse(ERROR, description="the URL has expired"),
            413: OpenApiResponse(ERROR, description="a body over the declared size"),
        },
        tags=["uploads"],
    )
    def put(self, request: Request, token: str) -> Response:
        length = request.META.get("CONTENT_LENGTH")
        row, received = direct_uploads.direct_upload_receive(
            token=token, body=request.stream, content_length=int(length) if length and length.isdigit() else None,
        )
        return Response({"key": row.key, "size": received})


@read_only_view  # a POST is a JSON 405, not Django's HTML CSRF page
def image_proxy(request: HttpRequest, media_id: str) -> HttpResponse:
    """``GET /api/images/{media_id}?size=&format=&bg=``: public, proxied to the media VM.

    A plain Django view: the answer is an image, and DRF's content negotiation would refuse
    an ``Accept: image/avif`` that only the media VM can satisfy.
    """
    if not is_media_id(media_id):
        return JsonResponse(error_body("Not found.", {"media_id": media_id}), status=404)
    params = request.GET.dict()
    if "bg" not in params:  # a logo's owner may have chosen its background-removed set
        background = selectors.default_background_for_media(media_id=media_id)
        if background is not None:
            params["bg"] = background
    try:
        upstream = vm_client.serve_open(
            media_id=media_id,
            method=request.method or "GET",
            params=params,
            headers={name: request.headers[name] for name in vm_client.REQUEST_HEADERS if name in request.headers},
        )
    except ApplicationError as e:
        return JsonResponse(error_body(e.message, e.extra), status=e.status_code)

    if upstream.status_code in (302, 304) or request.method == "HEAD":
        upstream.close()
        response: HttpResponse | StreamingHttpResponse = HttpResponse(status=upstream.status_code)
        if "Content-Type" not in upstream.headers:
            del response["Content-Type"]
    else:
        response = StreamingHttpResponse(vm_client.body_chunks(upstream), status=upstream.status_code)
    for name, value in vm_client.passed_headers(upstream).items():
        response[name] = value
    if upstream.status_code in (200, 304):
        # an hour, or less when the VM says less (a stand-in for a size still being made)
        response["Cache-Control"] = vm_client.proxy_cache_control(upstream.headers.get("Cache-Control"))
    elif upstream.status_code == 302:  # a signed URL: only as the VM allows (private, short)
        response["Cache-Control"] = upstream.headers.get("Cache-Control", "no-cache")
    else:
        response["Cache-Control"] = "no-cache"
    response["Vary"] = "Accept"
    return response


class SimilarImagesApi(APIView):
    """``GET /api/media/similar/{media_id}?limit=&min_similarity=&scope=``: the nearest images,
    from the media VM's ``/similar``.

    The owner of the image (user token) gets nearest images among their own uploads; another
    user gets a 404 as for an image that does not exist. The media key may also ask
    ``scope=all`` (every user's images). Each result carries its smart ``url`` (thumbnail).
    """

    authentication_classes = [MediaKeyAuthentication, UserTokenAuthentication]
    permission_classes = [MediaKeyOrUser]

    class InputSerializer(serializers.Serializer):
        """The query string."""

        limit = serializers.IntegerField(min_value=1, max_value=100, default=10)
        min_similarity = serializers.FloatField(
            min_value=-1.0, max_value=1.0, required=False, help_text="cosine floor (the media VM's default: 0.9)"
        )
        scope = serializers.ChoiceField(
            choices=["user", "all"], default="user", help_text="all: every user's images (media key only)"
        )

    @extend_schema_serializer(component_name="SimilarImages")
    class OutputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="SimilarImage")
        class ResultSerializer(serializers.Serializer):
            # Filled by the media VM: not required, so that a field it leaves out is left out here too.
            media_id = serializers.CharField()
            user_id = serializers.IntegerField(required=False)
            data_type = serializers.CharField(required=False)
            similarity = serializers.FloatField(required=False)
            phash_distance = serializers.IntegerField(required=False)
            duplicate = serializers.BooleanField(required=False)
            url = serializers.CharField(help_text="the smart URL of its thumbnail")

        success = serializers.BooleanField(default=True)
        media_id = serializers.CharField()
        scope = serializers.CharField()
        min_similarity = serializers.FloatField(allow_null=True)
        results = ResultSerializer(many=True)
        count = serializers.IntegerField()

    @extend_schema(
        operation_id="media_similar",
        summary="The nearest images of a processed image (its owner, or the media key)",
        parameters=[InputSerializer],
        responses={
            200: OutputSerializer,
            400: ERROR, 401: ERROR,
            403: OpenApiResponse(ERROR, description="scope=all without the media key"),
            404: OpenApiResponse(ERROR, description="no such processed image (or another user's)"),
            502: OpenApiResponse(ERROR, description="the media VM is unavailable"),
            504: OpenApiResponse(ERROR, description="the media VM timed out"),
        },
        tags=["images"],
    )
    def get(self, request: Request, media_id: str) -> Response:
        serializer = self.InputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        similar = selectors.similar_images_get(
            media_id=media_id,
            user_id=None if isinstance(request.auth, MediaClient) else request.user.pk,
            **serializer.validated_data,
        )
        return Response(self.OutputSerializer({"success": True, **similar}).data)


# --- uploads as a resource of their owner (/api/uploads) -----------------------------------------


@extend_schema_serializer(component_name="UploadPlaceholder")
class PlaceholderSerializer(serializers.Serializer):
    thumbhash = serializers.CharField(
        help_text="ThumbHash (github.com/evanw/thumbhash), base64: decode with thumbHashToDataURL for a blurred preview"
    )
    dominant_color = serializers.CharField(help_text="#rrggbb, the largest dominant colour (a flat fallback)")


@extend_schema_serializer(component_name="UploadGps")
class GpsSerializer(serializers.Serializer):
    lat = serializers.FloatField(help_text="decimal degrees, south negative")
    lon = serializers.FloatField(help_text="decimal degrees, west negative")


@extend_schema_serializer(component_name="UploadExif")
class ExifSerializer(serializers.Serializer):
    """Each field null when the file does not say."""

    camera_make = serializers.CharField(allow_null=True)
    camera_model = serializers.CharField(allow_null=True)
    lens = serializers.CharField(allow_null=True)
    taken_at = serializers.CharField(
        allow_null=True, help_text="ISO 8601; with an offset only when the camera recorded one"
    )
    exposure_time = serializers.FloatField(allow_null=True, help_text="seconds (0.008 is 1/125)")
    f_number = serializers.FloatField(allow_null=True)
    iso = serializers.IntegerField(allow_null=True)
    focal_length_mm = serializers.FloatField(allow_null=True, help_text="real focal length, not 35 mm-equivalent")
    gps = GpsSerializer(
        allow_null=True,
        help_text="only to the owner, and only stored when the owner's profile has keep_location on (off by default)",
    )


@extend_schema_serializer(component_name="Upload")
class UploadOutputSerializer(serializers.Serializer):
    """The upload object (``selectors.upload_detail``)."""

    @extend_schema_serializer(component_name="UploadVariant")
    class VariantSerializer(serializers.Serializer):
        size = serializers.ChoiceField(choices=list(SIZE_NAMES))
        width = serializers.IntegerField(allow_null=True, help_text="real pixel width of the served file")
        height = serializers.IntegerField(allow_null=True, help_text="real pixel height of the served file")
        formats = serializers.ListField(child=serializers.ChoiceField(choices=[f.value for f in ImageFormat]))
        url = serializers.CharField(help_text="its smart URL (/api/images/{media_id}?size=...)")

    id = serializers.IntegerField()
    field = serializers.CharField(allow_null=True, help_text="the PATCH /users/me field it came in")
    data_type = serializers.ChoiceField(choices=PendingImage.DataTypes.values)
    original_name = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=PendingImage.Status.values)
    stage = serializers.ChoiceField(
        choices=[stage.value for stage in UploadStage],
        help_text="where processing is, only ever forward: queued, retrieved, thumbnail_ready, analysed, "
        "variants_ready, processed; or failed at any point",
    )
    failure_reason = serializers.CharField(allow_null=True, help_text="why it failed, in words; null unless failed")
    attempts = serializers.IntegerField(help_text="processing rounds: 1, plus one per retry")
    retryable = serializers.BooleanField(help_text="failed, and its original is still kept: POST .../retry")
    created_at = serializers.DateTimeField()
    processed_at = serializers.DateTimeField(allow_null=True)
    media_id = serializers.CharField(allow_null=True, help_text="the image's id on the media VM, from "
                                     "thumbnail_ready on; null before (and once failed)")
    thumbnail_url = serializers.CharField(allow_null=True, help_text="the thumbnail's smart URL, servable from "
                                          "thumbnail_ready on; null before")
    smart_url = serializers.CharField(allow_null=True, help_text="the permanent URL (detail size) once processed")
    width = serializers.IntegerField(allow_null=True, help_text="of the upright original")
    height = serializers.IntegerField(allow_null=True, help_text="of the upright original")
    variants = VariantSerializer(many=True, help_text="narrowest first; empty until processed")
    background = serializers.ChoiceField(
        choices=list(BACKGROUNDS), allow_null=True, help_text="a logo's default background; null for other types"
    )
    background_removed = serializers.BooleanField(
        allow_null=True, help_text="a processed logo: whether background removal produced a cut-out"
    )
    duplicate_of = serializers.IntegerField(allow_null=True, help_text="id of your earlier upload of this image")
    source_tool = serializers.CharField(allow_null=True, help_text=(
        "the tool the upload said made it (dall-e, sora, stable-diffusion, ...): its variants include that tool's "
        "preset outputs, normal and hq; null: none"))
    placeholder = PlaceholderSerializer(
        allow_null=True, help_text="what to show while the image loads; null until processed"
    )
    exif = ExifSerializer(allow_null=True, help_text="camera facts from the file's EXIF; null until processed")
    analysis = serializers.DictField(allow_null=True, help_text="the stored analysis; null until processed")


UPLOAD_EXAMPLE = {
    "id": 42, "field": "logo_image", "data_type": "logo", "original_name": "logo.png", "status": "complete",
    "stage": "processed", "failure_reason": None, "attempts": 1, "retryable": False,
    "created_at": "2026-11-30T08:00:00Z", "processed_at": "2026-11-30T08:00:04Z",
    "media_id": "0123456789abcdef0123456789abcdef",
    "thumbnail_url": "https://media.example.org/api/images/0123456789abcdef0123456789abcdef?size=thumbnail",
    "smart_url": "https://media.example.org/api/images/0123456789abcdef0123456789abcdef?size=detail",
    "width": 1600, "height": 900,
    "variants": [
        {"size": "thumbnail", "width": 300, "height": 300, "formats": ["avif", "webp", "jpeg", "png"],
         "url": "https://media.example.org/api/images/0123456789abcdef0123456789abcdef?size=thumbnail"},
        {"size": "detail", "width": 1200, "height": 675, "formats": ["avif", "webp", "jpeg", "png"],
         "url": "https://media.example.org/api/images/0123456789abcdef0123456789abcdef?size=detail"},
    ],
    "background": "original", "background_removed": True, "duplicate_of": None, "source_tool": None,
    "placeholder": {"thumbhash": "3OcRJYB4d3h/iIeHeEh3eIhw+j3A", "dominant_color": "#1e59c7"},
    "exif": {"camera_make": None, "camera_model": None, "lens": None, "taken_at": None, "exposure_time": None,
             "f_number": None, "iso": None, "focal_length_mm": None, "gps": None},
    "analysis": {"dominant_colors": ["#1e59c7"], "quality_score": 0.82, "width": 1600, "height": 900},
}
FAILED_UPLOAD_EXAMPLE = {
    **UPLOAD_EXAMPLE, "id": 43, "field": "profile_image", "data_type": "profile", "original_name": "me.jpg",
    "status": "failed", "stage": "failed", "retryable": True, "processed_at": None, "media_id": None,
    "failure_reason": "We could not read this image: the file is damaged or incomplete.",
    "thumbnail_url": None, "smart_url": None, "width": None, "height": None, "variants": [], "background": None,
    "background_removed": None, "placeholder": None, "exif": None, "analysis": None,
}


class UploadListApi(APIView):
    """``GET /api/uploads``: the signed-in user's uploads, newest first, a page at a time."""

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=PendingImage.Status.values, required=False)
        data_type = serializers.ChoiceField(choices=PendingImage.DataTypes.values, required=False)
        cursor = serializers.CharField(required=False, help_text="from the previous page's next/previous")
        limit = serializers.IntegerField(min_value=1, max_value=100, required=False, help_text="page size (20)")

    OutputSerializer = UploadOutputSerializer

    @extend_schema(
        operation_id="uploads_list",
        summary="Your uploads, newest first (cursor-paginated)",
        parameters=[FilterSerializer],
        responses={
            200: OpenApiResponse(
                inline_serializer("UploadPage", {
                    "next": serializers.CharField(allow_null=True), "previous": serializers.CharField(allow_null=True),
                    "results": UploadOutputSerializer(many=True),
                }),
                examples=[OpenApiExample("a page", value={
                    "next": "https://media.example.org/api/uploads?cursor=cD0yMDI2LTExLTMw", "previous": None,
                    "results": [UPLOAD_EXAMPLE, FAILED_UPLOAD_EXAMPLE],
                })],
            ),
            400: OpenApiResponse(ERROR, description="a bad filter value; extra.fields names it"),
            401: ERROR,
            404: OpenApiResponse(ERROR, description="an invalid cursor"),
        },
        tags=["uploads"],
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = selectors.uploads_for_user(
            user_id=request.user.pk, status=filters.validated_data.get("status"),
            data_type=filters.validated_data.get("data_type"),
        )
        paginator = NewestFirstPagination()
        page = paginator.paginate_queryset(rows, request, view=self) or []
        data = self.OutputSerializer([selectors.upload_detail(image) for image in page], many=True).data
        return Response({"next": paginator.get_next_link(), "previous": paginator.get_previous_link(),
                         "results": data})


class UploadDetailApi(APIView):
    """``GET /api/uploads/{id}``: one upload, to its owner or the media key; ``PATCH`` (a logo's
    background) and ``DELETE`` (the upload and everything of it), to its owner."""

    authentication_classes = [MediaKeyAuthentication, UserTokenAuthentication, SessionAuthentication]
    permission_classes = [MediaKeyOrUser]
    OutputSerializer = UploadOutputSerializer

    @extend_schema(
        operation_id="uploads_get",
        summary="One of your uploads (the media key reads any)",
        responses={
            200: OpenApiResponse(UploadOutputSerializer, examples=[
                OpenApiExample("processed logo", value=UPLOAD_EXAMPLE),
                OpenApiExample("failed, can be retried", value=FAILED_UPLOAD_EXAMPLE),
            ]),
            401: ERROR,
            404: OpenApiResponse(ERROR, description="no such upload, or someone else's"),
        },
        tags=["uploads"],
    )
    def get(self, request: Request, upload_id: str) -> Response:
        user_id = _user_id(request)
        image = selectors.upload_get(upload_id=int(upload_id), user_id=user_id)
        return Response(self.OutputSerializer(selectors.upload_detail(image, owner=user_id is not None)).data)

    @extend_schema_serializer(component_name="UploadPatch")
    class InputSerializer(serializers.Serializer):
        background = serializers.ChoiceField(
            choices=list(BACKGROUNDS),
            help_text="a logo's default background: its smart URLs serve this set unless they say bg=",
        )

    @extend_schema(
        operation_id="uploads_patch",
        summary="Choose a logo's default background",
        request=InputSerializer,
        examples=[OpenApiExample("remove the background", value={"background": "removed"}, request_only=True)],
        responses={
            200: OpenApiResponse(UploadOutputSerializer, examples=[OpenApiExample("background removed", value={
                **UPLOAD_EXAMPLE, "background": "removed",
                "smart_url": f"{UPLOAD_EXAMPLE['smart_url']}&bg=removed",
                "variants": [{**v, "url": f"{v['url']}&bg=removed"} for v in UPLOAD_EXAMPLE["variants"]],
            })]),
            400: OpenApiResponse(ERROR, description="not original/removed, or not a logo; names the field"),
            401: ERROR,
            404: OpenApiResponse(ERROR, description="no such upload, or someone else's"),
        },
        tags=["uploads"],
    )
    def patch(self, request: Request, upload_id: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        image = services.upload_background_set(
            image_id=int(upload_id), user_id=_user_id(request), background=serializer.validated_data["background"]
        )
        return Response(self.OutputSerializer(selectors.upload_detail(image)).data)


    @extend_schema(
        operation_id="uploads_delete",
        summary="Delete one of your uploads, and everything of it on the media VM",
        description=(
            "204. The profile field or site media row that points at the upload is cleared, its temp "
            "original deleted, and the media VM erases its original, variants, analysis and fingerprint "
            "(locally and in the bucket) on its next poll of `GET /api/media/deletions`; within 60 s "
            "`/api/images/{media_id}` answers 404. Not idempotent by design: the upload is gone, so a "
            "second DELETE answers 404 like any unknown id."
        ),
        request=None,
        responses={
            204: OpenApiResponse(description="deleted"),
            401: ERROR,
            403: OpenApiResponse(ERROR, description="the media key: only the owner deletes an upload"),
            404: OpenApiResponse(ERROR, description="no such upload (also: already deleted), or someone else's"),
        },
        tags=["uploads"],
    )
    def delete(self, request: Request, upload_id: str) -> Response:
        if isinstance(request.auth, MediaClient):
            # the media VM reads uploads; erasing one is its owner's decision (or the admin's)
            raise drf_exceptions.PermissionDenied("only the upload's owner may delete it")
        services.upload_delete(image_id=int(upload_id), user_id=request.user.pk)
        return Response(status=204)


class UploadEventTicketApi(APIView):
    """``POST /api/uploads/events/ticket``: a ticket for the event stream (``EventSource`` cannot
    send an ``Authorization`` header, and the long-lived token never goes into a URL)."""

    @extend_schema_serializer(component_name="EventTicket")
    class OutputSerializer(serializers.Serializer):
        ticket = serializers.CharField(help_text="for GET /api/uploads/events?ticket=...")
        expires_at = serializers.DateTimeField(help_text="valid until then, for every reconnect; then ask again")

    @extend_schema(
        operation_id="uploads_events_ticket",
        summary="A ticket (10 minutes) to open your upload event stream from a browser",
        request=None,
        responses={200: OutputSerializer, 401: ERROR},
        tags=["uploads"],
    )
    def post(self, request: Request) -> Response:
        ticket = events.event_ticket_issue(user_id=request.user.pk)
        return Response(self.OutputSerializer({"ticket": ticket.ticket, "expires_at": ticket.expires_at}).data)


class UploadEventsDoc(APIView):
    """Documents ``main_api.media.event_stream.upload_events``; never routed."""

    @extend_schema(
        operation_id="uploads_events",
        summary="Your upload events as Server-Sent Events (text/event-stream)",
        description=(
            "Each message: `id: <n>` (increasing), `event: upload`, `data: <the upload object as JSON>` "
            "(its `stage` and `status` say what happened); a `: keep-alive` comment every 15 s. Reconnect "
            "with `Last-Event-ID` (EventSource does) to be sent what you missed (kept 48 h). Authenticate "
            "with `?ticket=` from POST /api/uploads/events/ticket (browsers), your session cookie, or the "
            "`Authorization: Token` header (other clients)."
        ),
        parameters=[
            OpenApiParameter("ticket", OpenApiTypes.STR, description="from POST /api/uploads/events/ticket"),
            OpenApiParameter("Last-Event-ID", OpenApiTypes.INT, OpenApiParameter.HEADER,
                             description="the last id received: replay from there"),
        ],
        responses={(200, "text/event-stream"): OpenApiResponse(OpenApiTypes.STR, description="the stream"),
                   401: OpenApiResponse(ERROR, description="no valid ticket, token or session"),
                   429: OpenApiResponse(ERROR, description="too many open streams of yours "
                                        "(UPLOAD_EVENTS_MAX_STREAMS per process)")},
        tags=["uploads"],
    )
    def get(self, request: Request) -> Response:  # pragma: no cover - documentation only
        raise NotImplementedError


class UploadRetryApi(APIView):
    """``POST /api/uploads/{id}/retry``: a failed upload back to the queue (the manual end of the
    media VM's circuit breaker: once it gives up, nothing retries an upload on its own)."""

    OutputSerializer = UploadOutputSerializer

    @extend_schema(
        operation_id="uploads_retry",
        summary="Retry one of your failed uploads",
        request=None,
        responses={
            200: OpenApiResponse(UploadOutputSerializer, description="the upload, pending again", examples=[
                OpenApiExample("queued again", value={
                    **FAILED_UPLOAD_EXAMPLE, "status": "pending", "stage": "queued", "failure_reason": None,
                    "attempts": 2, "retryable": False,
                }),
            ]),
            401: ERROR,
            404: OpenApiResponse(ERROR, description="no such upload, or someone else's"),
            409: OpenApiResponse(ERROR, description="the upload has not failed"),
            410: OpenApiResponse(ERROR, description="its original is no longer kept: upload it again"),
        },
        tags=["uploads"],
    )
    def post(self, request: Request, upload_id: str) -> Response:
        image = services.pending_image_retry(image_id=int(upload_id), user_id=request.user.pk, failed_only=True)
        return Response(self.OutputSerializer(selectors.upload_detail(image)).data)


def _user_id(request: Request) -> int | None:
    """The signed-in user's id, None for the media key (which reads every image)."""
    return None if isinstance(request.auth, MediaClient) else request.user.pk
