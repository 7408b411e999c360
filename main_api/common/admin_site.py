"""The admin site: Django's, plus operations pages that apps register (``/admin/dashboard/``).

Installed as ``main_api.common.admin_site.AdminConfig`` in place of ``django.contrib.admin``
(Django's documented way to replace the default site); every ``@admin.register`` lands here.
An app adds a page with :meth:`AdminSite.operations_view_register` from its ``admin.py``
(which the admin's autodiscovery imports before the URLs are built); the index lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path


@dataclass(frozen=True)
class OperationsView:
    """A staff page of the admin: ``/admin/<route>``, URL name ``admin:<name>``."""

    route: str
    view: Callable[[HttpRequest], HttpResponse]
    name: str
    title: str
    description: str = ""

    @property
    def url_name(self) -> str:
        """The name to ``reverse``: ``admin:<name>``."""
        return f"admin:{self.name}"


class AdminSite(admin.AdminSite):
    """Django's admin site with the operations pages apps register (listed on the index)."""

    site_header = "oaf-media administration"
    site_title = "oaf-media admin"
    index_template = "admin/oaf_index.html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.operations_views: dict[str, OperationsView] = {}

    def operations_view_register(
        self, route: str, view: Callable[[HttpRequest], HttpResponse], *, name: str, title: str, description: str = ""
    ) -> None:
        """Serve ``view`` at ``/admin/<route>`` to staff only (``admin_view``: never cached,
        CSRF-protected, like every admin page) and link it from the index. Registering the
        same ``name`` again replaces the earlier page."""
        self.operations_views[name] = OperationsView(route, view, name, title, description)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        extra = [path(v.route, self.admin_view(v.view), name=v.name) for v in self.operations_views.values()]
        return [*extra, *super().get_urls()]

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = {"operations_views": list(self.operations_views.values()), **(extra_context or {})}
        return super().index(request, extra_context=context)


class AdminConfig(DjangoAdminConfig):
    """``django.contrib.admin`` with :class:`AdminSite` as ``admin.site``."""

    default_site = "main_api.common.admin_site.AdminSite"
