from __future__ import annotations

from django.urls import re_path

from main_api.users.apis import UploadFromUrlApi, UserMeApi

urlpatterns = [
    re_path(r"^users/me/?$", UserMeApi.as_view(), name="users-me"),
    # an upload of /users/me, so the users app's; beside the media app's /api/uploads routes
    re_path(r"^api/uploads/from-url/?$", UploadFromUrlApi.as_view(), name="upload-from-url"),
]
