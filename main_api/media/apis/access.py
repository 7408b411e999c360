"""Who may call the views that serve both the media VM and an image's owner."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from main_api.common.authentication import (
    HasMediaKey,
    MediaClient,
    MediaKeyAuthentication,
)


class MediaKeyApi(APIView):
    """Base of the views only the media VM may call."""

    authentication_classes = [MediaKeyAuthentication]
    permission_classes = [HasMediaKey]


class MediaKeyOrUser(BasePermission):
    """The media key, or a signed-in user (the view then limits them to their own images)."""

    message = "A user token or the media key is required."

    def has_permission(self, request: Request, view) -> bool:
        return isinstance(request.auth, MediaClient) or bool(request.user and request.user.is_authenticated)


def caller_user_id(request: Request) -> int | None:
    """The signed-in user's id, None for the media key (which reads every image)."""
    return None if isinstance(request.auth, MediaClient) else request.user.pk
