"""Admin of pending images: find the stuck and the failed, retry them or give up on them."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.timesince import timesince

from main_api.common.exceptions import ApplicationError
from main_api.media import services
from main_api.media.models import PendingImage

Status = PendingImage.Status
#: A pending row untouched for this long has not been picked up by the media VM.
STUCK_AFTER = timedelta(hours=1)
RECENT_FAILURES = timedelta(days=1)


class StuckFilter(admin.SimpleListFilter):
    """Pending for over an hour (since upload or the last retry)."""

    title = "stuck"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        return [("yes", "Pending over an hour")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status=Status.PENDING, updated_at__lt=timezone.now() - STUCK_AFTER)
        return queryset


class RecentFailureFilter(admin.SimpleListFilter):
    """Failed within the last day."""

    title = "recent failures"
    parameter_name = "failed_recently"

    def lookups(self, request, model_admin):
        return [("yes", "Failed in the last day")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status=Status.FAILED, updated_at__gte=timezone.now() - RECENT_FAILURES)
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


@admin.register(PendingImage)
class PendingImageAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "data_type", "status", "age", "media_id", "failure_reason", "created_at")
    list_filter = ("status", "data_type", StuckFilter, RecentFailureFilter)
    search_fields = ("user__username", "media_id", "original_name")
    list_select_related = ("user",)
    ordering = ("-created_at",)
    readonly_fields = ("created_at", "updated_at", "processed_at")
    actions = ("retry", "fail_and_clean_up")

    @admin.display(description="age", ordering="created_at")
    def age(self, obj: PendingImage) -> str:
        return timesince(obj.created_at)

    @admin.action(description="Retry (back to pending)")
    def retry(self, request: HttpRequest, queryset: QuerySet) -> None:
        _apply(self, request, queryset, lambda pk: services.pending_image_retry(image_id=pk), "Retried")

    @admin.action(description="Fail and clean up (deletes the temp file)")
    def fail_and_clean_up(self, request: HttpRequest, queryset: QuerySet) -> None:
        reason = f"failed by {request.user} in the admin"
        _apply(self, request, queryset, lambda pk: services.pending_image_fail(image_id=pk, reason=reason), "Failed")
