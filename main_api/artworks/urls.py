from __future__ import annotations

from django.urls import re_path

from main_api.artworks import apis

urlpatterns = [
    re_path(r"^api/artworks/?$", apis.ArtworkListApi.as_view(), name="artworks"),
    re_path(r"^api/artworks/upload-url/?$", apis.ArtworkUploadUrlApi.as_view(), name="artworks-upload-url"),
    re_path(r"^api/artworks/(?P<artwork_id>[0-9]{1,18})/?$", apis.ArtworkDetailApi.as_view(), name="artwork"),
    # any name reaches the view, which answers a JSON 404 for one that is no artist's
    re_path(r"^api/users/(?P<username>[^/]{1,300})/artworks/?$", apis.PublicArtworkListApi.as_view(),
            name="artworks-public"),
    re_path(r"^api/users/(?P<username>[^/]{1,300})/artworks/(?P<slug>[^/]{1,300})/?$",
            apis.PublicArtworkDetailApi.as_view(), name="artwork-public"),
]
