from __future__ import annotations

from django.urls import path, re_path

from main_api.media.apis.analysis import AnalysisApi, SimilarImagesApi
from main_api.media.apis.images import image_proxy
from main_api.media.apis.media_vm import (
    CleanupApi,
    CompleteApi,
    MediaDeletionDoneApi,
    MediaDeletionsApi,
    PendingUploadsApi,
    ProgressApi,
)
from main_api.media.apis.originals import DirectUploadApi, TempImageApi
from main_api.media.apis.uploads import UploadDetailApi, UploadEventTicketApi, UploadListApi, UploadRetryApi
from main_api.media.live import event_stream

urlpatterns = [
    re_path(r"^api/media/pending/all/?$", PendingUploadsApi.as_view(), name="media-pending-all"),
    re_path(r"^api/media/complete/(?P<image_id>[0-9]{1,18})/?$", CompleteApi.as_view(), name="media-complete"),
    re_path(r"^api/media/progress/(?P<image_id>[0-9]{1,18})/?$", ProgressApi.as_view(), name="media-progress"),
    re_path(r"^api/media/cleanup/(?P<image_id>[0-9]{1,18})/?$", CleanupApi.as_view(), name="media-cleanup"),
    re_path(r"^api/media/deletions/?$", MediaDeletionsApi.as_view(), name="media-deletions"),
    re_path(r"^api/media/deletions/(?P<deletion_id>[0-9]{1,18})/done/?$", MediaDeletionDoneApi.as_view(),
            name="media-deletion-done"),
    re_path(r"^api/media/analysis/(?P<media_id>[^/]+)/?$", AnalysisApi.as_view(), name="media-analysis"),
    re_path(r"^api/media/similar/(?P<media_id>[^/]+)/?$", SimilarImagesApi.as_view(), name="media-similar"),
    re_path(r"^api/uploads/?$", UploadListApi.as_view(), name="uploads"),
    re_path(r"^api/uploads/events/?$", event_stream.upload_events, name="upload-events"),
    re_path(r"^api/uploads/events/ticket/?$", UploadEventTicketApi.as_view(), name="upload-events-ticket"),
    re_path(r"^api/uploads/direct/(?P<token>[A-Za-z0-9_:-]{1,512})/?$", DirectUploadApi.as_view(),
            name="direct-upload"),
    re_path(r"^api/uploads/(?P<upload_id>[0-9]{1,18})/?$", UploadDetailApi.as_view(), name="upload"),
    re_path(r"^api/uploads/(?P<upload_id>[0-9]{1,18})/retry/?$", UploadRetryApi.as_view(),
            name="upload-retry"),
    path("api/images/<str:media_id>", image_proxy, name="image-proxy"),
    # Everything under /temp_images/ reaches the view, which alone decides what is a file.
    re_path(r"^temp_images/(?P<path>.*)$", TempImageApi.as_view(), name="temp-image"),
]
