from __future__ import annotations

from django.apps import AppConfig


class ArtworksConfig(AppConfig):
    """Artworks of artists: metadata, a slug per artist, a limit per user, public listings.

    Above ``users`` in the dependency order (it reads the profile's ``artwork_limit``) and
    ``media`` (each artwork's image is an upload of data type ``artwork``, made into the artwork
    sizes by the media VM); only ``frontend`` may import it. Its image's URLs are derived from
    the upload's media id when read, so no URL replacement is needed; deleting the upload (here,
    through ``/api/uploads/{id}`` or a user's erasure) deletes the artwork with it. A completed
    re-processing of an artwork's image takes the artwork along (a completion handler), and deleting
    an artwork's upload deletes the other runs of its image (a deletion handler).
    """

    name = "main_api.artworks"
    label = "artworks"

    def ready(self) -> None:
        from main_api.artworks.services import artwork_runs_delete, artwork_upload_follow_reprocessing
        from main_api.media.services.deletion import upload_deletion_handler_register
        from main_api.media.services.lifecycle import upload_completion_handler_register

        upload_completion_handler_register(artwork_upload_follow_reprocessing)
        upload_deletion_handler_register(artwork_runs_delete)
