"""URL map of the main API."""

from __future__ import annotations

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from main_api.common.views import health, metrics

urlpatterns = [
    # APPEND_SLASH is off (it would turn a PATCH into a 301), so the admin's bare path redirects here.
    path("admin", RedirectView.as_view(url="/admin/", permanent=False)),
    # The uploads' admin was /admin/media/pendingimage/ before the model was named Upload: kept
    # working for bookmarks and runbooks (the query string too).
    re_path(r"^admin/media/pendingimage/(?P<rest>.*)$",
            RedirectView.as_view(url="/admin/media/upload/%(rest)s", permanent=True, query_string=True)),
    path("admin/", admin.site.urls),
    # what browsers ask for on every page whatever the page links (a 404 logged a warning each time):
    # the demo site's icon; the URL resolved at request time (a hashed name once collected)
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("frontend/favicon.svg"), permanent=False)),
    path("health", health, name="health"),
    path("metrics", metrics, name="metrics"),
    # The OpenAPI 3 schema, generated from the code, and Swagger UI served from our static files.
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("main_api.users.urls")),
    path("", include("main_api.media.urls")),
    path("", include("main_api.artworks.urls")),
    # the demo site (/, /login, ...); last, so that no API route is shadowed
    path("", include("main_api.frontend.urls")),
]

handler400 = "main_api.common.views.bad_request"
handler403 = "main_api.common.views.forbidden"
handler404 = "main_api.common.views.not_found"
handler500 = "main_api.common.views.server_error"
