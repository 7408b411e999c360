"""``artworks``: one row per artwork, with its image's upload."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from main_api.media.models import Upload

TITLE_MAX_CHARS = 200
SLUG_MAX_CHARS = 80
DESCRIPTION_MAX_CHARS = 5000
MATERIALS_MAX_CHARS = 500
DIMENSIONS_MAX_CHARS = 200


class Artwork(models.Model):
    """An artist's work. Its ``status`` is derived (``selectors.artwork_status``): ``processing``
    until its image is processed, then ``active``; ``hidden`` while the owner hides it; ``failed``
    when its image failed. Only active artworks are public."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="artworks")
    #: The artwork's image (data type ``artwork``). Deleting the upload deletes the artwork.
    upload = models.OneToOneField(Upload, on_delete=models.CASCADE, related_name="artwork")
    title = models.CharField(max_length=TITLE_MAX_CHARS)
    #: From the title, unique per artist (``-2``, ``-3``, ... on a clash); kept when the title
    #: changes unless the owner asks for a new one.
    slug = models.SlugField(max_length=SLUG_MAX_CHARS)
    description = models.TextField(blank=True, default="", max_length=DESCRIPTION_MAX_CHARS)
    materials = models.CharField(max_length=MATERIALS_MAX_CHARS, blank=True, default="")
    #: Free text, e.g. ``60 x 80 cm``.
    dimensions = models.CharField(max_length=DIMENSIONS_MAX_CHARS, blank=True, default="")
    #: When the work was made (not when it was uploaded).
    created_date = models.DateField(null=True, blank=True)
    #: One of the ``ARTWORK_CATEGORIES`` setting.
    category = models.CharField(max_length=32)
    #: Lower-case, trimmed, unique tags (``ARTWORK_MAX_TAGS`` of ``ARTWORK_TAG_MAX_CHARS`` at most).
    tags = models.JSONField(default=list, blank=True)
    hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "artworks"
        constraints = [models.UniqueConstraint(fields=["user", "slug"], name="artworks_user_slug_unique")]
        indexes = [models.Index(fields=["user", "hidden", "-created_at"], name="artworks_public_idx")]

    def __str__(self) -> str:
        return f"{self.title} ({self.slug})"
