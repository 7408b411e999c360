"""Users and the profile rows whose image fields point at temp paths, then smart URLs."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from shared.statuses import UserType

#: Room for a smart URL (base URL + 32-char media id + query) or a temp path.
IMAGE_REF_LENGTH = 512


class User(AbstractUser):
    """A user of the platform; its type decides where a logo goes."""

    class Type(models.TextChoices):
        ARTIST = UserType.ARTIST.value, "Artist"
        PROMOTER = UserType.PROMOTER.value, "Promoter"
        COMMUNITY = UserType.COMMUNITY.value, "Community"

    user_type = models.CharField(max_length=16, choices=Type.choices, default=Type.COMMUNITY)

    class Meta:
        db_table = "users"


class UserProfile(models.Model):
    """Every user has one: display name, bio, profile and header images."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(max_length=150, blank=True, default="")
    bio = models.TextField(blank=True, default="")
    profile_image_path = models.CharField(max_length=IMAGE_REF_LENGTH, blank=True, default="")
    header_image_path = models.CharField(max_length=IMAGE_REF_LENGTH, blank=True, default="")
    #: keep the GPS position a photo's EXIF carries (off: it is dropped when the analysis arrives)
    keep_location = models.BooleanField(default=False)
    #: How many artworks the user may have (``/api/artworks``); empty: the ``ARTWORK_LIMIT``
    #: setting. Changed by ops in the admin.
    artwork_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most artworks this user may have; empty: the ARTWORK_LIMIT setting."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "user_profiles"

    def __str__(self) -> str:
        return f"profile of {self.user}"


class ArtistProfile(models.Model):
    """An artist user's logo."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="artist_profile")
    logo_path = models.CharField(max_length=IMAGE_REF_LENGTH, blank=True, default="")

    class Meta:
        db_table = "artist_profiles"

    def __str__(self) -> str:
        return f"artist profile of {self.user}"


class PromoterProfile(models.Model):
    """A promoter user's logo."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="promoter_profile")
    logo_path = models.CharField(max_length=IMAGE_REF_LENGTH, blank=True, default="")

    class Meta:
        db_table = "promoter_profiles"

    def __str__(self) -> str:
        return f"promoter profile of {self.user}"


class SiteMedia(models.Model):
    """An image of the user's site; one row per uploaded ``site_image``."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="site_media")
    media_path = models.CharField(max_length=IMAGE_REF_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "site_media"
        ordering = ("id",)

    def __str__(self) -> str:
        return self.media_path


def logo_profile_model(user_type: str) -> type[ArtistProfile] | type[PromoterProfile] | None:
    """The profile model that holds the logo of a user of ``user_type``: artists and promoters
    each have their own profile with a ``logo_path``; a community user has no logo (None).
    The one rule for where a logo belongs (uploads, the profile view, user creation)."""
    return {User.Type.ARTIST: ArtistProfile, User.Type.PROMOTER: PromoterProfile}.get(User.Type(user_type))
