from __future__ import annotations

from django.apps import AppConfig


class ArtworksConfig(AppConfig):
    """Artworks of artists: metadata, a slug per artist, a limit per user, public listings.

    Above ``users`` in the dependency order (it reads the profile's ``artwork_limit``) and
    ``media`` (each artwork's image is an upload of data type ``artwork``, made into the artwork
    sizes by the media VM); only ``frontend`` may import it. Its image's URLs are derived from
    the upload's media id when read, so no URL replacement is needed; deleting the upload (here,
    through ``/api/uploads/{id}`` or a user's erasure) deletes the artwork with it. A completed
    re-processing of an artwork's image takes the artwork along (``upload.completed``), and deleting
    an artwork's upload deletes the other runs of its image (``upload.deleted``): both connected
    to ``main_api.media.domain_events`` here.
    """

    name = "main_api.artworks"
    label = "artworks"

    def ready(self) -> None:
        from main_api.artworks.services import artwork_runs_delete, artwork_upload_follow_reprocessing
        from main_api.media.domain_events import UPLOAD_COMPLETED, UPLOAD_DELETED

        UPLOAD_COMPLETED.connect(artwork_upload_follow_reprocessing)
        UPLOAD_DELETED.connect(artwork_runs_delete)
