"""HTTP views of artworks: the owner's (``/api/artworks``) and the public ones
(``/api/users/{username}/artworks``)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from main_api.artworks import selectors, services
from main_api.artworks.errors import ARTIST_NOT_FOUND, ARTWORK_NOT_FOUND, PUBLIC_ARTWORK_NOT_FOUND
from main_api.artworks.models import (
    DESCRIPTION_MAX_CHARS,
    DIMENSIONS_MAX_CHARS,
    MATERIALS_MAX_CHARS,
    TITLE_MAX_CHARS,
)
from main_api.common.exceptions import ApplicationError
from main_api.common.pagination import BAD_CURSOR_RESPONSE, PAGE_PARAMETERS, NewestFirstPagination, page_of
from main_api.common.schema import ERROR, error_response
from main_api.common.throttling import UploadRateThrottle
from main_api.media.intake.direct_uploads import direct_upload_issue
from main_api.media.upload_object import UploadOutputSerializer
from shared.naming import ACCEPTED_TYPES
from shared.sizes import SOURCE_TOOLS

#: The documented 404s, with the messages of ``main_api.artworks.errors``.
NOT_FOUND = error_response(ARTWORK_NOT_FOUND)
NO_ARTIST = error_response(ARTIST_NOT_FOUND)
NO_PUBLIC = error_response(ARTIST_NOT_FOUND, PUBLIC_ARTWORK_NOT_FOUND)


def _category_field(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=list(settings.ARTWORK_CATEGORIES), **kwargs)


class ArtworkFieldsSerializer(serializers.Serializer):
    """What the owner writes about an artwork; text is bounded, ``tags`` cleaned by
    ``services.artwork_tags_clean``."""

    title = serializers.CharField(max_length=TITLE_MAX_CHARS)
    description = serializers.CharField(max_length=DESCRIPTION_MAX_CHARS, required=False, allow_blank=True)
    materials = serializers.CharField(max_length=MATERIALS_MAX_CHARS, required=False, allow_blank=True,
                                      help_text="free text, e.g. oil on linen")
    dimensions = serializers.CharField(max_length=DIMENSIONS_MAX_CHARS, required=False, allow_blank=True,
                                       help_text="free text, e.g. 60 x 80 cm")
    created_date = serializers.DateField(required=False, allow_null=True, help_text="when the work was made (ISO date)")
    category = serializers.CharField(help_text="one of the ARTWORK_CATEGORIES setting")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=True, trim_whitespace=False), required=False,
        max_length=200, help_text="trimmed, lower-cased, deduplicated; at most ARTWORK_MAX_TAGS of "
        "ARTWORK_TAG_MAX_CHARS characters",
    )

    def validate_category(self, value: str) -> str:
        if value not in settings.ARTWORK_CATEGORIES:
            raise serializers.ValidationError(f"not a category; one of {', '.join(settings.ARTWORK_CATEGORIES)}")
        return value

    def validate_tags(self, value: list[str]) -> list[str]:
        try:
            return services.artwork_tags_clean(value)
        except ApplicationError as e:
            raise serializers.ValidationError(e.message) from e


class ArtworkFieldsOutputSerializer(serializers.Serializer):
    """What the owner's and the public views of an artwork share (``selectors.artwork_fields``)."""

    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    materials = serializers.CharField()
    dimensions = serializers.CharField()
    created_date = serializers.DateField(allow_null=True)
    category = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    icon_url = serializers.CharField(allow_null=True, help_text="128x128 crop; null until processed")
    thumbnail_url = serializers.CharField(allow_null=True, help_text="300x300 crop, for grids; null until processed")
    display_url = serializers.CharField(allow_null=True, help_text=(
        "inside 1200x1200, watermarked with the artist's username; null until processed"))
    created_at = serializers.DateTimeField()


class ArtworkOutputSerializer(ArtworkFieldsOutputSerializer):
    """An artwork as its owner sees it (``selectors.artwork_owner_detail``)."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=selectors.STATUSES, help_text=(
        "processing until the image is processed, then active; hidden while you hide it; failed when its "
        "image failed (retry it with POST /api/uploads/{upload.id}/retry)"))
    hidden = serializers.BooleanField()
    upload = UploadOutputSerializer(help_text="the artwork's image, as GET /api/uploads/{id} shows it")
    updated_at = serializers.DateTimeField()


class PublicArtworkSerializer(ArtworkFieldsOutputSerializer):
    """An active artwork as anyone sees it (``selectors.artwork_public_detail``)."""

    artist = serializers.CharField()
    placeholder = serializers.DictField(allow_null=True)


def _page(request: Request, view: APIView, rows, render) -> Response:
    paginator = NewestFirstPagination()
    page = paginator.paginate_queryset(rows, request, view=view) or []
    return Response({"next": paginator.get_next_link(), "previous": paginator.get_previous_link(),
                     "results": [render(artwork) for artwork in page]})


class ArtworkUploadUrlApi(APIView):
    """``POST /api/artworks/upload-url``: where to upload an artwork's original straight to storage."""

    throttle_scope = "uploads"

    @extend_schema_serializer(component_name="ArtworkUploadUrlInput")
    class InputSerializer(serializers.Serializer):
        filename = serializers.CharField(max_length=255)
        content_type = serializers.CharField(
            max_length=100, help_text="the file's media type: one of " + ", ".join(sorted(ACCEPTED_TYPES))
            + " (image/heic, image/jpg and other names browsers use are taken too); the bytes are judged by "
            "content when the artwork is created")
        size = serializers.IntegerField(min_value=1, help_text="bytes; at most MAX_UPLOAD_BYTES")

    @extend_schema(
        operation_id="artworks_upload_url",
        summary="A short-lived, single-use URL to upload one artwork original to",
        request=InputSerializer,
        responses={
            200: inline_serializer("DirectUploadUrl", {
                "method": serializers.ChoiceField(choices=["PUT", "POST"]),
                "upload_url": serializers.CharField(),
                "key": serializers.CharField(help_text="give it to POST /api/artworks"),
                "expires_at": serializers.DateTimeField(),
                "fields": serializers.DictField(required=False, help_text="POST only: form fields to send first"),
            }),
            400: ERROR, 401: ERROR, 413: OpenApiResponse(ERROR, description="size over MAX_UPLOAD_BYTES"),
            429: OpenApiResponse(ERROR, description="artwork limit reached, or over the upload budget"),
        },
        tags=["artworks"],
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        limit = selectors.artwork_limit_for(user_id=request.user.pk)
        if selectors.artworks_of_owner(user_id=request.user.pk).count() >= limit:
            raise services.ArtworkLimitReached(services.limit_message(limit), {"limit": limit})
        UploadRateThrottle().charge(request, self, cost=1)
        return Response(direct_upload_issue(user_id=request.user.pk, request=request, **data.validated_data))


class ArtworkListApi(APIView):
    """``GET /api/artworks``: your artworks, any status; ``POST``: create one from an uploaded key."""

    @extend_schema_serializer(component_name="ArtworkCreate")
    class InputSerializer(ArtworkFieldsSerializer):
        key = serializers.CharField(max_length=512, help_text="from POST /api/artworks/upload-url, after the upload")
        source_tool = serializers.ChoiceField(
            choices=list(SOURCE_TOOLS), required=False, allow_blank=True,
            help_text="the tool that made the image (dall-e, sora, stable-diffusion, ...): it also gets that "
            "tool's preset outputs, normal and hq; 400 for another value")

    @extend_schema(operation_id="artworks_list", summary="Your artworks, newest first (cursor-paginated)",
                   parameters=PAGE_PARAMETERS,
                   responses={200: page_of("ArtworkPage", ArtworkOutputSerializer(many=True)), 400: BAD_CURSOR_RESPONSE,
                              401: ERROR},
                   tags=["artworks"])
    def get(self, request: Request) -> Response:
        rows = selectors.artworks_of_owner(user_id=request.user.pk)
        return _page(request, self, rows, selectors.artwork_owner_detail)

    @extend_schema(
        operation_id="artworks_create",
        summary="Create an artwork from an uploaded original",
        request=InputSerializer,
        responses={
            201: ArtworkOutputSerializer,
            400: OpenApiResponse(ERROR, description="a bad field, or a key that is unknown, not yours, expired, "
                                 "missing, already used or not an image; nothing is created"),
            401: ERROR,
            429: OpenApiResponse(ERROR, description="your artwork limit is reached (extra.limit)"),
        },
        tags=["artworks"],
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        key = values.pop("key")
        source_tool = values.pop("source_tool", "")
        values["tags"] = tuple(values.get("tags", ()))
        artwork = services.artwork_create(
            user_id=request.user.pk, key=key, fields=services.ArtworkFields(**values),
            request_id=getattr(request, "request_id", None), source_tool=source_tool,
        )
        return Response(ArtworkOutputSerializer(selectors.artwork_owner_detail(artwork)).data, status=201)


class ArtworkDetailApi(APIView):
    """``GET/PATCH/DELETE /api/artworks/{id}``: one of your artworks."""

    @extend_schema_serializer(component_name="ArtworkPatch")
    class InputSerializer(ArtworkFieldsSerializer):
        title = serializers.CharField(max_length=TITLE_MAX_CHARS, required=False)
        category = serializers.CharField(required=False)
        hidden = serializers.BooleanField(required=False, help_text="hide it from the public pages")
        regenerate_slug = serializers.BooleanField(required=False, default=False,
                                                   help_text="a new slug from the (new) title")

    @extend_schema(operation_id="artworks_get", summary="One of your artworks",
                   responses={200: ArtworkOutputSerializer, 401: ERROR, 404: NOT_FOUND}, tags=["artworks"])
    def get(self, request: Request, artwork_id: str) -> Response:
        artwork = selectors.artwork_get_for_owner(artwork_id=int(artwork_id), user_id=request.user.pk)
        return Response(ArtworkOutputSerializer(selectors.artwork_owner_detail(artwork)).data)

    @extend_schema(operation_id="artworks_patch", summary="Change, hide or re-slug one of your artworks",
                   request=InputSerializer,
                   responses={200: ArtworkOutputSerializer, 400: ERROR, 401: ERROR, 404: NOT_FOUND}, tags=["artworks"])
    def patch(self, request: Request, artwork_id: str) -> Response:
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        regenerate = changes.pop("regenerate_slug", False)
        artwork = services.artwork_update(artwork_id=int(artwork_id), user_id=request.user.pk, changes=changes,
                                          regenerate_slug=regenerate)
        return Response(ArtworkOutputSerializer(selectors.artwork_owner_detail(artwork)).data)

    @extend_schema(operation_id="artworks_delete", summary="Delete one of your artworks and its image everywhere",
                   request=None, responses={204: OpenApiResponse(description="deleted"), 401: ERROR, 404: NOT_FOUND},
                   tags=["artworks"])
    def delete(self, request: Request, artwork_id: str) -> Response:
        services.artwork_delete(artwork_id=int(artwork_id), user_id=request.user.pk)
        return Response(status=204)


class PublicArtworkListApi(APIView):
    """``GET /api/users/{username}/artworks``: an artist's active artworks, for anyone."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="artworks_public_list", summary="An artist's active artworks (no sign-in)",
                   parameters=PAGE_PARAMETERS,
                   responses={200: page_of("PublicArtworkPage", PublicArtworkSerializer(many=True)),
                              400: BAD_CURSOR_RESPONSE, 404: NO_ARTIST},
                   tags=["artworks"])
    def get(self, request: Request, username: str) -> Response:
        rows = selectors.artworks_public(username=username)
        return _page(request, self, rows,
                     lambda a: PublicArtworkSerializer(selectors.artwork_public_detail(a)).data)


class PublicArtworkDetailApi(APIView):
    """``GET /api/users/{username}/artworks/{slug}``: one active artwork, for anyone."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="artworks_public_get", summary="One active artwork of an artist (no sign-in)",
                   responses={200: PublicArtworkSerializer, 404: NO_PUBLIC}, tags=["artworks"])
    def get(self, request: Request, username: str, slug: str) -> Response:
        artwork = selectors.artwork_public_get(username=username, slug=slug)
        return Response(PublicArtworkSerializer(selectors.artwork_public_detail(artwork)).data)
