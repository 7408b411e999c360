from __future__ import annotations

from django.apps import AppConfig


class MediaConfig(AppConfig):
    """Uploads, the media VM's API and client, the upload gate.

    Depends on ``common`` only. Plugs into common's hooks here (the database gauges of
    ``/metrics``) and in ``admin.py`` (the operations dashboard), and connects its own handler
    of ``upload.deleted`` (the upload's live events go with it).
    """

    name = "main_api.media"
    label = "media"
    verbose_name = "Media"

    def ready(self) -> None:
        from main_api.common.metrics import database_collector_register
        from main_api.common.schema import plain_view_document
        from main_api.media.apis.uploads import UploadEventsDoc
        from main_api.media.domain_events import UPLOAD_DELETED
        from main_api.media.intake import gate
        from main_api.media.live.records import deleted_upload_events_discard
        from main_api.media.metrics import UploadsCollector

        assert gate.check_image_codecs  # importing the gate registers its codec check
        database_collector_register(UploadsCollector())
        plain_view_document("upload-events", UploadEventsDoc)
        UPLOAD_DELETED.connect(deleted_upload_events_discard)  # its live events go with it
