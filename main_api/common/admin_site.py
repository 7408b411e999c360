"""The admin site: Django's, plus the operations dashboard at ``/admin/dashboard/``.

Installed as ``main_api.common.admin_site.AdminConfig`` in place of ``django.contrib.admin``
(Django's documented way to replace the default site); every ``@admin.register`` lands here.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.urls import URLPattern, URLResolver, path


class AdminSite(admin.AdminSite):
    site_header = "oaf-media administration"
    site_title = "oaf-media admin"
    index_template = "admin/oaf_index.html"

    def get_urls(self) -> list[URLResolver | URLPattern]:
        from main_api.media.admin import dashboard_view

        # admin_view: staff only, never cached, CSRF-protected, like every admin page.
        return [path("dashboard/", self.admin_view(dashboard_view), name="dashboard"), *super().get_urls()]


class AdminConfig(DjangoAdminConfig):
    default_site = "main_api.common.admin_site.AdminSite"
