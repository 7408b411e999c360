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
]
