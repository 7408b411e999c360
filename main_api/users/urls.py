from __future__ import annotations

from django.urls import re_path

from main_api.users.apis import UserMeApi

urlpatterns = [
    re_path(r"^users/me/?$", UserMeApi.as_view(), name="users-me"),
]
