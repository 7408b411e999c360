"""The OpenAPI schema's view of what DRF cannot introspect on its own.

``/api/images/{media_id}`` (and ``/health``, ``/metrics``) are plain Django views: they answer
images and text that DRF's renderers would refuse. drf-spectacular only enumerates DRF views,
so :func:`include_plain_views`, a preprocessing hook, adds a documentation-only DRF view for
each; the URL conf remains the one place that routes requests.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from main_api.common.error_messages import ErrorMessage
from shared.sizes import SIZE_NAMES, ImageFormat


class MediaKeyScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer <MEDIA_API_KEY>``: the media VM."""

    target_class = "main_api.common.authentication.MediaKeyAuthentication"
    name = "mediaKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer", "description": "MEDIA_API_KEY (any of the configured keys)"}


class UserTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Token <t>`` (``Bearer <t>`` too): a user's DRF token."""

    target_class = "main_api.common.authentication.UserTokenAuthentication"
    name = "userToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <key>` (or `Bearer <key>`); `python -m main_api create_user` prints one"}


ERROR = inline_serializer(
    "Error", {"message": serializers.CharField(), "extra": serializers.DictField()}
)
#: An error of the media VM's API (``/api/media/*``): the seed's ``success`` (always false) too.
MEDIA_VM_ERROR = inline_serializer(
    "MediaVmError", {"success": serializers.BooleanField(help_text="always false"),
                     "message": serializers.CharField(), "extra": serializers.DictField()}
)


def error_response(*messages: ErrorMessage, description: str | None = None,
                   media_vm: bool = False) -> OpenApiResponse:
    """The documented error answer of one status: :data:`ERROR` (:data:`MEDIA_VM_ERROR` with
    ``media_vm``) with an example per declared message (``main_api.common.error_messages``) and
    ``description``, by default the messages' cases."""
    examples = [
        OpenApiExample(m.message[:80], value={"success": False, **m.body()} if media_vm else m.body(),
                       response_only=True, status_codes=[str(m.status)])
        for m in messages
    ]
    return OpenApiResponse(MEDIA_VM_ERROR if media_vm else ERROR, examples=examples,
                           description=description or "; ".join(m.when for m in messages))


class ImageProxyDoc(APIView):
    """Documents ``main_api.media.apis.images.image_proxy``; never routed."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        operation_id="image_get",
        summary="A variant of a processed image (public, proxied to the media VM's /serve)",
        description=(
            "Answers with the image bytes, `Cache-Control: public, max-age=3600` and `Vary: Accept`. "
            "Without `format` (or with `auto`) the format is negotiated from `Accept`: AVIF, WebP, then "
            "JPEG (PNG where transparency must survive). A missing size falls back to the nearest one. "
            "`If-None-Match` gives a 304. HEAD works too."
        ),
        parameters=[
            OpenApiParameter("media_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="32 hex characters"),
            OpenApiParameter("size", OpenApiTypes.STR, enum=list(SIZE_NAMES), description="default: detail"),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["auto", *(f.value for f in ImageFormat), "jpg"]),
            OpenApiParameter("bg", OpenApiTypes.STR, enum=["original", "removed"], description="removed: logos"),
        ],
        responses={
            (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="the variant"),
            304: OpenApiResponse(description="not modified"),
            400: OpenApiResponse(ERROR, description="bad size, format or bg"),
            404: OpenApiResponse(ERROR, description="no such image"),
            502: OpenApiResponse(ERROR, description="the media VM is unavailable"),
            504: OpenApiResponse(ERROR, description="the media VM timed out"),
        },
        auth=[],
        tags=["images"],
    )
    def get(self, request, media_id):  # pragma: no cover - documentation only
        raise NotImplementedError


class HealthDoc(APIView):
    """Documents ``main_api.common.views.health``; never routed."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        operation_id="health",
        summary="200 when the database answers and the temp folder is writable, else 503",
        responses={
            200: inline_serializer(
                "Health",
                {"status": serializers.CharField(), "database": serializers.CharField(),
                 "temp_images": serializers.CharField()},
            ),
            503: OpenApiResponse(description="unhealthy; the body names what failed"),
        },
        auth=[],
        tags=["operations"],
    )
    def get(self, request):  # pragma: no cover - documentation only
        raise NotImplementedError


class MetricsDoc(APIView):
    """Documents ``main_api.common.views.metrics``; never routed."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        operation_id="metrics",
        summary="Prometheus metrics (Authorization: Bearer <METRICS_TOKEN or MEDIA_API_KEY>)",
        responses={(200, "text/plain"): OpenApiResponse(OpenApiTypes.STR), 401: OpenApiResponse(ERROR)},
        tags=["operations"],
    )
    def get(self, request):  # pragma: no cover - documentation only
        raise NotImplementedError


#: URL name of a plain view -> the documentation view that stands for it.
PLAIN_VIEWS: dict[str, type[APIView]] = {"image-proxy": ImageProxyDoc, "health": HealthDoc, "metrics": MetricsDoc}


def plain_view_document(url_name: str, doc_view: type[APIView]) -> None:
    """Have the schema document the plain (non-DRF) view routed as ``url_name`` by
    ``doc_view``'s ``get`` (an app registers its own in ``AppConfig.ready()``)."""
    PLAIN_VIEWS[url_name] = doc_view


def _named_patterns(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            found += _named_patterns(entry, prefix + str(entry.pattern))
        elif entry.name in PLAIN_VIEWS:
            found.append((prefix + str(entry.pattern), entry))
    return found


def include_plain_views(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """drf-spectacular ``PREPROCESSING_HOOKS`` entry: add the plain views, found in the URL conf
    by name, with their documentation views as callbacks; and name the API's routes without the
    optional trailing slash their patterns accept (``/users/me``, not ``/users/me/``)."""
    from drf_spectacular.generators import EndpointEnumerator

    enumerator = EndpointEnumerator()
    endpoints = [
        (path[:-1] if regex.endswith("/?$") and path.endswith("/") else path, regex, *rest)
        for path, regex, *rest in endpoints
    ]
    added = []
    for route, pattern in _named_patterns(get_resolver()):
        path = enumerator.get_path_from_regex(route)
        if route.endswith("/?$") and path.endswith("/"):
            path = path[:-1]
        callback = PLAIN_VIEWS[pattern.name].as_view()
        added.append((path, route, "GET", callback))
    return [*endpoints, *added]


def nullable_objects_as_one_of(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular ``POSTPROCESSING_HOOKS`` entry: a nullable nested object is written
    ``{"oneOf": [{"$ref": X}, {"$ref": NullEnum}]}``, as the schema writes nullable choices, not
    ``{"allOf": [{"$ref": X}], "nullable": true}``.

    OpenAPI 3.0.3 says ``nullable`` only widens a ``type`` of the same schema object, so a strict
    validator (openapi-schema-validator's) reads the ``allOf`` form as "never null" and refuses the
    ``null`` the API answers (an upload's ``placeholder`` and ``exif`` until it is processed); the
    ``oneOf`` form means the same to every reader.
    """
    null = {"$ref": "#/components/schemas/NullEnum"}

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: rewrite(value) for key, value in node.items()}
        if node.get("nullable") is True and len(node.get("allOf", ())) == 1 and "$ref" in node["allOf"][0]:
            rest = {key: value for key, value in node.items() if key not in ("allOf", "nullable")}
            return {"oneOf": [node["allOf"][0], null], **rest}
        return node

    rewritten = rewrite(result)
    if rewritten != result:
        rewritten.setdefault("components", {}).setdefault("schemas", {}).setdefault("NullEnum", {"enum": [None]})
    return rewritten
