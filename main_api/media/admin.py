"""Admin of the uploads: find the stuck and the failed, retry, give up on or re-process them;
and the operations dashboard (``/admin/dashboard/``).

Rows are read-only here: every change goes through a service (the bulk actions), never
through the change form.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from main_api.common.exceptions import ApplicationError
from main_api.media.models import Upload
from main_api.media.selectors.dashboard import STUCK_AFTER, dashboard_get, upload_failures_recent, uploads_stuck
from main_api.media.services.deletion import upload_delete
from main_api.media.services.lifecycle import upload_fail, upload_retry
from main_api.media.services.reprocessing import upload_reprocess
from shared.sizes import SIZE_NAMES

Status = Upload.Status


class StuckFilter(admin.SimpleListFilter):
    """Pending for over an hour (since upload or the last retry)."""

    title = "stuck"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        return [("yes", "Pending over an hour")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=uploads_stuck().values("pk"))
        return queryset


class RecentFailureFilter(admin.SimpleListFilter):
    """Failed within the last day."""

    title = "recent failures"
    parameter_name = "failed_recently"

    def lookups(self, request, model_admin):
        return [("yes", "Failed in the last day")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=upload_failures_recent().values("pk"))
        return queryset


def _apply(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, action, verb: str) -> None:
    done, refused = 0, []
    for image_id in queryset.values_list("pk", flat=True):
        try:
            action(image_id)
        except ApplicationError as e:
            refused.append(f"#{image_id}: {e.message}")
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"{verb} {done} image(s).", messages.SUCCESS)
    if refused:
        modeladmin.message_user(request, "Refused " + "; ".join(refused), messages.WARNING)


def image_url(media_id: str, **params: str) -> str:
    """The public ``/api/images/{media_id}`` URL (relative: the admin is served by the same host)."""
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("image-proxy", args=[media_id]) + (f"?{query}" if query else "")


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = (
        "id", "preview", "user", "data_type", "status", "age", "media_id", "failure_reason", "created_at",
    )
    list_filter = ("status", "data_type", StuckFilter, RecentFailureFilter)
    search_fields = ("user__username", "media_id", "original_name", "request_id")
    list_select_related = ("user",)
    ordering = ("-created_at",)
    fieldsets = (
        (None, {"fields": ("user", "status", "data_type", "target", "age", "failure_reason")}),
        ("Upload", {"fields": ("image_path", "previous_reference", "original_name", "mime_type", "request_id",
                               "sha256", "duplicate_of", "reprocess_of", "created_at", "updated_at")}),
        ("Result", {"fields": ("media_id", "large_preview", "variant_links", "permanent_url", "formats_available",
                               "sizes_available", "processed_at", "analysis")}),
    )
    actions = ("retry", "fail_and_clean_up", "reprocess", "delete_everywhere")

    # Read-only: the actions below (services) are the only way to change a row.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Upload | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Upload | None = None) -> bool:
        return False

    def has_erase_permission(self, request: HttpRequest) -> bool:
        """Erasing users' images for good: superusers only (viewing staff may retry and fail)."""
        return bool(request.user.is_superuser)

    def get_readonly_fields(self, request: HttpRequest, obj: Upload | None = None) -> tuple[str, ...]:
        return ("age", "large_preview", "variant_links", "analysis")

    @admin.display(description="age", ordering="created_at")
    def age(self, obj: Upload) -> str:
        return timesince(obj.created_at)

    @admin.display(description="preview")
    def preview(self, obj: Upload) -> str:
        if not (obj.is_finished and obj.media_id):
            return "-"
        return format_html(
            '<img src="{}" alt="thumbnail of #{}" width="60" height="60" loading="lazy" style="object-fit: cover">',
            image_url(obj.media_id, size="thumbnail"),
            obj.pk,
        )

    @admin.display(description="thumbnail")
    def large_preview(self, obj: Upload) -> str:
        if not (obj.is_finished and obj.media_id):
            return "not processed yet"
        return format_html(
            '<a href="{}"><img src="{}" alt="thumbnail of #{}" width="150" height="150"></a>',
            image_url(obj.media_id, size="detail"),
            image_url(obj.media_id, size="thumbnail"),
            obj.pk,
        )

    @admin.display(description="variants")
    def variant_links(self, obj: Upload) -> str:
        if not (obj.is_finished and obj.media_id):
            return "-"
        media_id = obj.media_id
        sizes = [s for s in SIZE_NAMES if s in (obj.sizes_available or [])] or list(SIZE_NAMES)
        by_size = format_html_join(" · ", '<a href="{}">{}</a>', ((image_url(media_id, size=s), s) for s in sizes))
        by_format = format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            ((image_url(media_id, size="detail", format=f), f) for f in obj.formats_available or []),
        )
        return format_html("sizes: {}<br>detail as: {}", by_size, by_format or "-")

    @admin.display(description="analysis")
    def analysis(self, obj: Upload) -> str:
        if not obj.ai_analysis:
            return "-"
        return format_html("<pre>{}</pre>", json.dumps(obj.ai_analysis, indent=2, sort_keys=True, ensure_ascii=False))

    @admin.action(description="Retry (back to pending)")
    def retry(self, request: HttpRequest, queryset: QuerySet) -> None:
        _apply(self, request, queryset, lambda pk: upload_retry(image_id=pk), "Retried")

    @admin.action(description="Fail and clean up (the temp file is kept FAILED_RETENTION_DAYS for a retry)")
    def fail_and_clean_up(self, request: HttpRequest, queryset: QuerySet) -> None:
        reason = f"failed by {request.user} in the admin"
        _apply(self, request, queryset, lambda pk: upload_fail(image_id=pk, reason=reason), "Failed")

    @admin.action(description="Re-process (a new upload of the same original; the current one keeps serving)")
    def reprocess(self, request: HttpRequest, queryset: QuerySet) -> None:
        _apply(self, request, queryset, lambda pk: upload_reprocess(image_id=pk), "Re-queued")

    @admin.action(description="Delete everywhere (as its owner's DELETE /api/uploads/{id}: the media VM erases it)",
                  permissions=["erase"])
    def delete_everywhere(self, request: HttpRequest, queryset: QuerySet) -> None:
        # newest first: a duplicate before the upload it repeats, whose deletion takes it along
        ids = list(queryset.order_by("-pk").values_list("pk", flat=True))
        _apply(self, request, Upload.objects.filter(pk__in=ids).order_by("-pk"),
               lambda pk: upload_delete(image_id=pk, user_id=None, missing_ok=True), "Deleted")


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """``/admin/dashboard/``: the operations dashboard (staff only, registered below)."""
    context = {
        **admin.site.each_context(request),
        "title": "Operations dashboard",
        "dashboard": dashboard_get(),
        "stuck_after": STUCK_AFTER,
        "changelist": reverse("admin:media_upload_changelist"),
    }
    return TemplateResponse(request, "admin/media/dashboard.html", context)


admin.site.operations_view_register(
    "dashboard/",
    dashboard_view,
    name="dashboard",
    title="Dashboard",
    description="queue, stuck images, failures, processing times, throughput, the media VM",
)
