"""The owner's uploads resource: ``/api/uploads`` (list, one, PATCH, DELETE, retry) and the
ticket and documentation of its event stream."""

from __future__ import annotations

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
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from main_api.common.authentication import (
    MediaClient,
    MediaKeyAuthentication,
    UserTokenAuthentication,
)
from main_api.common.pagination import NewestFirstPagination
from main_api.common.schema import ERROR, error_response
from main_api.media.apis.access import MediaKeyOrUser, caller_user_id
from main_api.media.errors import (
    UPLOAD_BACKGROUND_NOT_LOGO,
    UPLOAD_DELETE_NOT_OWNER,
    UPLOAD_NOT_FOUND,
    UPLOAD_ORIGINAL_GONE,
    UPLOAD_RETRY_DUPLICATE,
    UPLOAD_RETRY_NOT_FAILED,
)
from main_api.media.live.tickets import event_ticket_issue
from main_api.media.models import Upload
from main_api.media.selectors.uploads import upload_get, uploads_for_user
from main_api.media.services.deletion import upload_delete
from main_api.media.services.lifecycle import upload_background_set, upload_retry
from main_api.media.upload_object import FAILED_UPLOAD_EXAMPLE, UPLOAD_EXAMPLE, UploadOutputSerializer, upload_detail
from shared.sizes import BACKGROUNDS


class UploadListApi(APIView):
    """``GET /api/uploads``: the signed-in user's uploads, newest first, a page at a time."""

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Upload.Status.values, required=False)
        data_type = serializers.ChoiceField(choices=Upload.DataTypes.values, required=False)
        cursor = serializers.CharField(required=False, help_text="from the previous page's next/previous, as "
                                       "given (signed); 400 for any other value")
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
            400: OpenApiResponse(ERROR, description="a bad filter value, or a cursor the server did not issue "
                                 "(forged, tampered, undecodable); extra.fields names it (status, data_type, "
                                 "limit or cursor)"),
            401: ERROR,
        },
        tags=["uploads"],
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = uploads_for_user(
            user_id=request.user.pk, status=filters.validated_data.get("status"),
            data_type=filters.validated_data.get("data_type"),
        )
        paginator = NewestFirstPagination()
        page = paginator.paginate_queryset(rows, request, view=self) or []
        data = self.OutputSerializer([upload_detail(image) for image in page], many=True).data
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
            404: error_response(UPLOAD_NOT_FOUND),
        },
        tags=["uploads"],
    )
    def get(self, request: Request, upload_id: str) -> Response:
        user_id = caller_user_id(request)
        image = upload_get(upload_id=int(upload_id), user_id=user_id)
        return Response(self.OutputSerializer(upload_detail(image, owner=user_id is not None)).data)

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
            200: OpenApiResponse(UploadOutputSerializer, description=(
                "the upload the PATCH was sent to; a duplicate answers itself (its own id, duplicate_of "
                "naming the earlier upload, whose background it shares and shows)"),
                examples=[OpenApiExample("background removed", value={
                **UPLOAD_EXAMPLE, "background": "removed",
                "smart_url": f"{UPLOAD_EXAMPLE['smart_url']}&bg=removed",
                "variants": [{**v, "url": f"{v['url']}&bg=removed"} for v in UPLOAD_EXAMPLE["variants"]],
            })]),
            400: error_response(UPLOAD_BACKGROUND_NOT_LOGO, description="not original/removed (a validation error), "
                                "or not a logo; names the field"),
            401: ERROR,
            404: error_response(UPLOAD_NOT_FOUND),
        },
        tags=["uploads"],
    )
    def patch(self, request: Request, upload_id: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        image = upload_background_set(
            image_id=int(upload_id), user_id=caller_user_id(request), background=serializer.validated_data["background"]
        )
        return Response(self.OutputSerializer(upload_detail(image)).data)


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
            403: error_response(UPLOAD_DELETE_NOT_OWNER),
            404: error_response(UPLOAD_NOT_FOUND),
        },
        tags=["uploads"],
    )
    def delete(self, request: Request, upload_id: str) -> Response:
        if isinstance(request.auth, MediaClient):
            # the media VM reads uploads; erasing one is its owner's decision (or the admin's)
            raise drf_exceptions.PermissionDenied(UPLOAD_DELETE_NOT_OWNER.message)
        upload_delete(image_id=int(upload_id), user_id=request.user.pk)
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
        ticket = event_ticket_issue(user_id=request.user.pk)
        return Response(self.OutputSerializer({"ticket": ticket.ticket, "expires_at": ticket.expires_at}).data)


class UploadEventsDoc(APIView):
    """Documents ``main_api.media.live.event_stream.upload_events``; never routed."""

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
                             description="the last id received (a decimal number): replay from there; one above "
                             "the newest event (a restored database) starts at the newest"),
            OpenApiParameter("last_event_id", OpenApiTypes.INT,
                             description="the same, for clients that cannot set the header (the header wins)"),
        ],
        responses={(200, "text/event-stream"): OpenApiResponse(OpenApiTypes.STR, description="the stream"),
                   400: OpenApiResponse(ERROR, description="Last-Event-ID (or last_event_id) is not a decimal "
                                        "number; extra.fields names it"),
                   401: OpenApiResponse(ERROR, description="no valid ticket, token or session"),
                   429: OpenApiResponse(ERROR, description="too many open streams of yours "
                                        "(UPLOAD_EVENTS_MAX_STREAMS, in all processes and hosts; extra.max_streams)")},
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
            404: error_response(UPLOAD_NOT_FOUND),
            409: error_response(UPLOAD_RETRY_NOT_FAILED, UPLOAD_RETRY_DUPLICATE),
            410: error_response(UPLOAD_ORIGINAL_GONE),
        },
        tags=["uploads"],
    )
    def post(self, request: Request, upload_id: str) -> Response:
        image = upload_retry(image_id=int(upload_id), user_id=request.user.pk, failed_only=True)
        return Response(self.OutputSerializer(upload_detail(image)).data)
