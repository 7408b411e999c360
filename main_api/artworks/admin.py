"""Admin of artworks: who made what, in which state; deleting one deletes its image everywhere."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from main_api.artworks.models import Artwork
from main_api.artworks.selectors import artwork_status
from main_api.artworks.services import artwork_delete


@admin.register(Artwork)
class ArtworkAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "slug", "category", "status", "hidden", "created_at")
    list_filter = ("category", "hidden", "upload__status")
    search_fields = ("title", "slug", "user__username")
    readonly_fields = ("user", "upload", "slug", "status", "created_at", "updated_at")
    list_select_related = ("user", "upload")

    @admin.display(description="status")
    def status(self, obj: Artwork) -> str:
        return artwork_status(obj)

    # the image goes with it, through the upload's deletion (the media VM erases its files)
    def delete_model(self, request: HttpRequest, obj: Artwork) -> None:
        artwork_delete(artwork_id=obj.pk, user_id=obj.user_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for artwork in queryset:
            artwork_delete(artwork_id=artwork.pk, user_id=artwork.user_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # an artwork needs an uploaded image: POST /api/artworks
