"""Writes to the uploads (``pending_images``), by sub-domain: ``lifecycle`` (create, progress,
complete, fail, retry, mark complete), ``reprocessing``, ``deletion`` (and the media VM's
acknowledgements), ``sweeps`` (failed originals, stuck uploads)."""
