from __future__ import annotations

from django.urls import path, re_path

from main_api.frontend import views

app_name = "frontend"
urlpatterns = [
    path("", views.home, name="home"),
    re_path(r"^login/?$", views.sign_in, name="login"),
    re_path(r"^logout/?$", views.sign_out, name="logout"),
    re_path(r"^uploads/(?P<upload_id>[0-9]{1,18})/(?P<action>retry|delete|background)/?$", views.upload_action,
            name="upload-action"),
    re_path(r"^artworks/?$", views.artworks, name="artworks"),
    re_path(r"^artworks/(?P<artwork_id>[0-9]{1,18})/(?P<action>hide|unhide|delete)/?$", views.artwork_action,
            name="artwork-action"),
    # the public pages; the same username and slug patterns as the public API's
    re_path(r"^artists/(?P<username>[\w.@+-]{1,150})/?$", views.artist, name="artist"),
    re_path(r"^artists/(?P<username>[\w.@+-]{1,150})/(?P<slug>[-a-zA-Z0-9_]{1,80})/?$", views.artwork_public,
            name="artwork-public"),
]
