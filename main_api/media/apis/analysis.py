"""An image's stored analysis and its nearest images, to its owner or the media key."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from main_api.common.authentication import (
    MediaClient,
    MediaKeyAuthentication,
    UserTokenAuthentication,
)
from main_api.common.schema import MEDIA_VM_ERROR, error_response
from main_api.media.apis.access import MediaKeyOrUser, caller_user_id
from main_api.media.errors import PROCESSED_IMAGE_NOT_FOUND, SIMILAR_SCOPE_ALL
from main_api.media.selectors.media_vm import upload_by_media_id
from main_api.media.selectors.uploads import similar_images_get


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
            401: MEDIA_VM_ERROR,
            404: error_response(PROCESSED_IMAGE_NOT_FOUND, media_vm=True),
        },
        tags=["images"],
    )
    def get(self, request: Request, media_id: str) -> Response:
        image = upload_by_media_id(media_id=media_id, user_id=caller_user_id(request))
        return Response({"success": True, "analysis": image.ai_analysis or {}})


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
            400: MEDIA_VM_ERROR, 401: MEDIA_VM_ERROR,
            403: error_response(SIMILAR_SCOPE_ALL, media_vm=True),
            404: error_response(PROCESSED_IMAGE_NOT_FOUND, media_vm=True),
            502: OpenApiResponse(MEDIA_VM_ERROR, description="the media VM is unavailable"),
            504: OpenApiResponse(MEDIA_VM_ERROR, description="the media VM timed out"),
        },
        tags=["images"],
    )
    def get(self, request: Request, media_id: str) -> Response:
        serializer = self.InputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        similar = similar_images_get(
            media_id=media_id,
            user_id=None if isinstance(request.auth, MediaClient) else request.user.pk,
            **serializer.validated_data,
        )
        return Response(self.OutputSerializer({"success": True, **similar}).data)
