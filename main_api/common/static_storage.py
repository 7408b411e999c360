"""The production storage of static files."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Whitenoise's compressed storage with hashed names (served with a year's cache), which
    also rewrites the ``import ... from "./x.js";`` of ES modules to the hashed names, so that
    a module imported by another (``smart-image.js`` importing ``thumbhash.js``) is as
    long-cached and as fresh after a deploy as the page's own script."""

    support_js_module_import_aggregation = True
