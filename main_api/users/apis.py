"""``/users/me``: the signed-in user's profile, uploads to it, and erasing the account; and
``POST /api/uploads/from-url``, an upload to it from a URL."""

from __future__ import annotations

from typing import Any

from django.core.files import File
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.fields import SkipField, empty
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from main_api.common import metrics
from main_api.common.exceptions import ApplicationError, UploadTooLarge
from main_api.common.parsers import JSONParser
from main_api.common.schema import ERROR
from main_api.common.throttling import UploadRateThrottle
from main_api.media.intake.multipart import DIGESTS_ATTRIBUTE, upload_fields_check
from main_api.media.intake.url_import import MAX_REDIRECTS
from main_api.media.upload_object import UPLOAD_EXAMPLE, UploadOutputSerializer, upload_detail
from main_api.users.selectors import user_profile_get
from main_api.users.services import user_erase, user_profile_update, user_upload_from_url
from shared.data_types import UPLOAD_FIELDS
from shared.sizes import SOURCE_TOOLS


class ProfileOutputSerializer(serializers.Serializer):
    """A profile as ``users.selectors.user_profile_get`` gives it."""

    class SiteMediaSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        media_path = serializers.CharField()

    class PendingImageSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.CharField()
        data_type = serializers.CharField()
        media_id = serializers.CharField(allow_null=True)
        smart_url = serializers.CharField(allow_null=True)
        created_at = serializers.DateTimeField()
        failure_reason = serializers.CharField(
            allow_null=True,
            help_text="why the upload failed, in words for its owner (e.g. \"We could not read this image: "
            "the file is damaged or incomplete.\"); null unless status is failed",
        )
        field = serializers.CharField(allow_null=True, help_text="the upload field it came in")
        stage = serializers.CharField(help_text="where processing is: queued, processed or failed "
                                      "(GET /api/uploads/{id} has the upload in full)")
        duplicate_of = serializers.IntegerField(
            allow_null=True, help_text="the id of your earlier upload of the same bytes, which this one "
            "shares its image with (no second processing); null otherwise")

    id = serializers.IntegerField()
    username = serializers.CharField()
    user_type = serializers.CharField()
    display_name = serializers.CharField()
    bio = serializers.CharField()
    profile_image_path = serializers.CharField(allow_null=True)
    header_image_path = serializers.CharField(allow_null=True)
    logo_path = serializers.CharField(allow_null=True)
    site_media = SiteMediaSerializer(many=True)
    pending_images = PendingImageSerializer(many=True)


class UploadField(serializers.FileField):
    """A file of the multipart body. Anything else sent under an upload field's name (text, or
    null in JSON) is left out, as the API has always ignored it: only files are uploads.
    An empty file passes here; the upload gate refuses it with the other files."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_empty_file=True, **kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        if data is not empty and not isinstance(data, File):
            raise SkipField()
        return super().run_validation(data)


def profile_fields_check(request: Request, serializer: serializers.Serializer) -> None:
    """Refuses a ``PATCH /users/me`` that names a field it does not take, or sends an image field
    as anything but a file part, instead of answering 200 with nothing stored. Raises DRF's
    ``ValidationError`` naming each such field (a 400 with ``extra.fields``)."""
    known = set(serializer.fields)
    complaints: dict[str, list[str]] = {}
    for name in request.data:
        if name not in known:
            complaints[name] = [f"unknown field; this endpoint takes {', '.join(sorted(known))}"]
        elif name in UPLOAD_FIELDS and name not in request.FILES:
            complaints[name] = ["an image field takes a file part of a multipart request"]
    if complaints:
        raise serializers.ValidationError(complaints)


class UserMeApi(APIView):
    """``GET /users/me``, ``PATCH /users/me`` (multipart: image fields, display_name, bio) and
    ``DELETE /users/me`` (the account and everything of it)."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]
    throttle_scope = "uploads"

    @extend_schema_serializer(component_name="ProfilePatch")
    class InputSerializer(serializers.Serializer):
        """The body of ``PATCH /users/me``: the text fields and one optional image per upload field."""

        display_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        bio = serializers.CharField(max_length=5000, required=False, allow_blank=True)
        source_tool = serializers.ChoiceField(
            choices=list(SOURCE_TOOLS), required=False, allow_blank=True,
            help_text="the tool that made this request's images (dall-e, sora, stable-diffusion, or one the "
            "outputs file adds): each also gets that tool's preset outputs, normal and hq; 400 for another value")

        def get_fields(self) -> dict[str, serializers.Field]:
            # one file field per entry of the contract's UPLOAD_FIELDS
            fields = super().get_fields()
            for field, data_type in UPLOAD_FIELDS.items():
                fields[field] = UploadField(
                    help_text=f"an image (judged by its content) for the {data_type.value} data type; "
                    "at most MAX_UPLOAD_BYTES (413 past it)",
                )
            return fields

    @extend_schema_serializer(component_name="ProfileTextPatch")
    class TextInputSerializer(serializers.Serializer):
        """The body of ``PATCH /users/me`` as JSON: the text fields only (files need multipart; a
        value under an upload field's name is ignored)."""

        display_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        bio = serializers.CharField(max_length=5000, required=False, allow_blank=True)

    OutputSerializer = ProfileOutputSerializer

    def get_throttles(self):
        # Only uploads are throttled; reading the profile is cheap. This refuses a user whose
        # budget is spent before the body is read; patch() charges one unit per file.
        return [UploadRateThrottle()] if self.request.method == "PATCH" else []

    @extend_schema(operation_id="users_me_get", summary="The signed-in user's profile",
                   responses={200: ProfileOutputSerializer, 401: ERROR}, tags=["users"])
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(user_profile_get(user=request.user)).data)

    @extend_schema(
        operation_id="users_me_patch",
        summary="Update the profile; each file field uploads an image for processing",
        description="Multipart to upload images (and change the text fields); JSON changes the text fields only.",
        request={"multipart/form-data": InputSerializer, "application/json": TextInputSerializer},
        responses={
            200: ProfileOutputSerializer,
            400: OpenApiResponse(ERROR, description="not an image we accept, or an unknown field; names the field"),
            401: ERROR,
            413: OpenApiResponse(ERROR, description="a file over MAX_UPLOAD_BYTES"),
            429: OpenApiResponse(ERROR, description=(
                "over the upload budget (UPLOAD_THROTTLE_RATE files per user; each file costs one, a PATCH "
                "without files one); nothing is stored; Retry-After says when the request would fit")),
        },
        tags=["users"],
    )
    def patch(self, request: Request) -> Response:
        files: dict = {}
        try:
            upload_fields_check(request.FILES)  # unknown fields, several files in one: named errors
            # the upload budget counts files (a PATCH without one costs one); 429 spends nothing
            n_files = sum(len(parts) for _, parts in request.FILES.lists())
            UploadRateThrottle().charge(request, self, cost=max(1, n_files))
            serializer = self.InputSerializer(data=request.data)
            profile_fields_check(request, serializer)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            files = {field: data.pop(field) for field in UPLOAD_FIELDS if field in data}
            user_profile_update(
                user=request.user, files=files, request_id=getattr(request, "request_id", None),
                digests=getattr(request, DIGESTS_ATTRIBUTE, None), **data
            )
        except ApplicationError as e:
            field = e.extra.get("field")
            outcome = "too_large" if isinstance(e, UploadTooLarge) else "rejected"
            data_type = UPLOAD_FIELDS[field].value if field in UPLOAD_FIELDS else "unknown"
            metrics.uploads_observed(data_types=[data_type] if field else [], outcome=outcome)
            raise
        metrics.uploads_observed(data_types=[UPLOAD_FIELDS[field].value for field in files], outcome="accepted")
        return Response(self.OutputSerializer(user_profile_get(user=request.user)).data)

    @extend_schema(
        operation_id="users_me_delete",
        summary="Erase your account and everything of it",
        description=(
            "204. Every upload is deleted as `DELETE /api/uploads/{id}` deletes one (the media VM erases "
            "its original, variants, analysis and fingerprint on its next poll; within 60 s its smart URLs "
            "answer 404), then the user, its profiles and its token. The token no longer works afterwards "
            "(a second call: 401)."
        ),
        request=None,
        responses={204: OpenApiResponse(description="erased"), 401: ERROR},
        tags=["users"],
    )
    def delete(self, request: Request) -> Response:
        user_erase(user=request.user)
        return Response(status=204)


class UploadFromUrlApi(APIView):
    """``POST /api/uploads/from-url``: the main API fetches the image at ``url`` and takes it as an
    upload of ``field`` of ``PATCH /users/me`` (``users.services.user_upload_from_url``)."""

    parser_classes = [JSONParser, FormParser]
    throttle_scope = "uploads"

    @extend_schema_serializer(component_name="UploadFromUrl")
    class InputSerializer(serializers.Serializer):
        url = serializers.CharField(
            max_length=2048, trim_whitespace=True,
            help_text="an http(s) URL of an image on a public address, without user:password@",
        )
        field = serializers.ChoiceField(
            choices=list(UPLOAD_FIELDS),
            help_text="the PATCH /users/me field the image is uploaded as: it decides the data type and "
            "the profile field that refers to it",
        )
        source_tool = serializers.ChoiceField(
            choices=list(SOURCE_TOOLS), required=False, allow_blank=True,
            help_text="the tool that made the image (dall-e, sora, stable-diffusion, ...): it also gets that "
            "tool's preset outputs, normal and hq; 400 for another value")

    def get_throttles(self):
        return [UploadRateThrottle()]  # a spent budget: 429 before anything is fetched

    @extend_schema(
        operation_id="uploads_from_url",
        summary="Upload an image from a URL, as a file of PATCH /users/me",
        description=(
            "The main API fetches the URL itself and then treats the body exactly like a file uploaded in "
            "`field` of `PATCH /users/me`: the same checks, limits, upload budget (one unit), naming and "
            "duplicate detection, and the profile field (or site media) refers to the new upload. "
            "Only http(s); no user info in the URL; no cookies or credentials are sent (User-Agent "
            "`oaf-media-url-import/1`). The address a name resolves to is checked on every connection and "
            f"redirect (at most {MAX_REDIRECTS}): loopback, private, link-local, multicast, reserved and "
            "similar addresses (IPv6 included) are refused unless URL_IMPORT_ALLOWED_HOSTS names the exact "
            "host:port. Only a 200 is taken; URL_IMPORT_TIMEOUT_SECONDS bounds the whole fetch. Each refusal "
            "names its reason in `extra.reason`; nothing is stored on any of them."
        ),
        request=InputSerializer,
        responses={
            201: OpenApiResponse(UploadOutputSerializer, description="the new upload, as GET /api/uploads/{id}",
                                 examples=[OpenApiExample("queued", value={
                                     **UPLOAD_EXAMPLE, "original_name": "logo.png", "status": "pending",
                                     "stage": "queued", "processed_at": None, "media_id": None,
                                     "thumbnail_url": None, "smart_url": None, "width": None, "height": None,
                                     "variants": [], "background_removed": None, "placeholder": None,
                                     "exif": None, "analysis": None})]),
            400: OpenApiResponse(ERROR, description=(
                "a refused URL (extra.reason: bad_url, scheme, credentials, address: a non-public address not "
                "in URL_IMPORT_ALLOWED_HOSTS, too_many_redirects), a bad field, or a body the upload gate "
                "refuses (not an image we accept; extra.field)")),
            401: ERROR,
            413: OpenApiResponse(ERROR, description="over MAX_UPLOAD_BYTES, declared or while streaming "
                                 "(extra.reason: too_large)"),
            429: OpenApiResponse(ERROR, description="over the upload budget (UPLOAD_THROTTLE_RATE), or "
                                 "URL_IMPORT_MAX_IN_FLIGHT imports already running on the server (extra.reason: "
                                 "busy); nothing is fetched; Retry-After says when"),
            502: OpenApiResponse(ERROR, description="the server failed: not found, refused, TLS, an answer other "
                                 "than 200, a body that broke off (extra.reason: status, unreachable)"),
            504: OpenApiResponse(ERROR, description="no whole answer within URL_IMPORT_TIMEOUT_SECONDS "
                                 "(extra.reason: timeout)"),
        },
        tags=["uploads"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        field = serializer.validated_data["field"]
        try:
            UploadRateThrottle().charge(request, self, cost=1)
            image = user_upload_from_url(user=request.user, url=serializer.validated_data["url"], field=field,
                                         request_id=getattr(request, "request_id", None),
                                         source_tool=serializer.validated_data.get("source_tool", ""))
        except ApplicationError as e:
            outcome = "too_large" if isinstance(e, UploadTooLarge) else "rejected"
            metrics.uploads_observed(data_types=[UPLOAD_FIELDS[field].value], outcome=outcome)
            raise
        metrics.uploads_observed(data_types=[UPLOAD_FIELDS[field].value], outcome="accepted")
        return Response(UploadOutputSerializer(upload_detail(image)).data, status=201)
