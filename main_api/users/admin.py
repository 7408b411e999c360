"""Admin of users and their profiles."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from main_api.media.models import Upload
from main_api.users.models import ArtistProfile, PromoterProfile, SiteMedia, User, UserProfile
from main_api.users.services import user_erase


class UserProfileInline(admin.StackedInline):
    model = UserProfile
    can_delete = False


class ArtistProfileInline(admin.StackedInline):
    model = ArtistProfile
    can_delete = False


class PromoterProfileInline(admin.StackedInline):
    model = PromoterProfile
    can_delete = False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "user_type", "email", "is_staff", "date_joined")
    list_filter = ("user_type", *DjangoUserAdmin.list_filter)
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Platform", {"fields": ("user_type",)}))
    add_fieldsets = (*DjangoUserAdmin.add_fieldsets, ("Platform", {"fields": ("user_type",)}))
    inlines = (UserProfileInline, ArtistProfileInline, PromoterProfileInline)

    # Deleting a user here erases them as DELETE /users/me does: every upload is deleted through
    # its service (references cleared, temp originals removed, the media VM told to erase the
    # originals and variants), never by a bare cascade that would leave the VM's copies behind.
    def delete_model(self, request: HttpRequest, obj: User) -> None:
        user_erase(user=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for user in queryset:
            user_erase(user=user)

    def get_deleted_objects(self, objs, request: HttpRequest):  # noqa: ANN001, ANN201 - Django's signature
        # Uploads are read-only in their own admin (no delete permission there), which would
        # make Django refuse to delete their owner; the erasure above deletes them its own way.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed = {name for name in perms_needed if name != Upload._meta.verbose_name}
        return deleted, counts, perms_needed, protected


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "display_name", "profile_image_path", "header_image_path")
    search_fields = ("user__username", "display_name")


@admin.register(ArtistProfile, PromoterProfile)
class LogoProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "logo_path")
    search_fields = ("user__username",)


@admin.register(SiteMedia)
class SiteMediaAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "media_path", "created_at")
    search_fields = ("user__username", "media_path")
