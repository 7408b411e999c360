"""Reads of the uploads (``pending_images``), by reader: ``media_vm`` (what the media VM reads),
``uploads`` (the owner's view), ``dashboard`` (the admin's), ``maintenance`` (the sweeps,
the URL replacement, re-processing). The upload object itself is ``main_api.media.upload_object``."""
