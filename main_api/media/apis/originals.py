"""Original bytes in and out: temp originals to their owner or the media key, and the PUT of a
direct upload."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions as drf_exceptions
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from main_api.common.authentication import (
    MediaClient,
    MediaKeyAuthentication,
    UserTokenAuthentication,
)
from main_api.common.exceptions import NotFoundError
from main_api.common.schema import ERROR
from main_api.media.intake import direct_uploads
from main_api.media.selectors.media_vm import temp_image_get


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
        image, original = temp_image_get(
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
    (``main_api.media.intake.direct_uploads``). The signed token is the credential: no session, no
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
            404: OpenApiResponse(ERROR, description="not a URL of this kind at all (a token with other characters)"),
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
