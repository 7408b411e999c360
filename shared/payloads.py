"""Shapes of the JSON bodies that cross between the services."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class PendingImagePayload(TypedDict):
    """One item of ``GET /api/media/pending/all``.

    ``request_id`` (the upload's ``X-Request-ID``, or null) is optional: a main API older
    than it does not send it, and the media VM only logs it and sends it back.
    """

    id: int
    user_id: int
    image_path: str
    original_name: str
    mime_type: str
    data_type: str
    status: str
    created_at: str
    request_id: NotRequired[str | None]
    #: Whether the owner keeps the GPS position of their photos; absent (an older main API):
    #: false, and the media VM stores no position.
    keep_location: NotRequired[bool]
    #: When a retry put the row back in the queue (ISO 8601), null for its first round; the
    #: media VM takes a row it failed up again only for a later round than the one it did.
    queued_at: NotRequired[str | None]
    #: The text the media VM draws on the sizes of ``shared.sizes.WATERMARKED_SIZES`` (the
    #: artist's username, for ``data_type`` ``artwork``); absent or null: no watermark.
    watermark: NotRequired[str | None]
    #: The tool the upload says made it (``shared.sizes.SOURCE_TOOLS``: ``dall-e``, ``sora``,
    #: ``stable-diffusion``, or one the outputs file adds): its preset's outputs are made too;
    #: absent or null: none.
    source_tool: NotRequired[str | None]


class PendingListPayload(TypedDict):
    """``GET /api/media/pending/all``. ``now`` (ISO 8601, the main API's time before it looked)
    is the next poll's ``since``: with ``after``, rows put back in the queue after it (a retry)
    are listed too. A main API older than it does not send it."""

    images: list[PendingImagePayload]
    total: int
    now: NotRequired[str]


class DeletionPayload(TypedDict):
    """One item of ``GET /api/media/deletions``: a deleted upload the media VM must erase.
    ``media_id`` is null when the upload was never reported processed; ``main_api_id`` is the
    deleted upload's id (the ``id`` of the pending list); ``requested_at`` ISO 8601."""

    id: int
    media_id: str | None
    main_api_id: int
    requested_at: str


class DeletionListPayload(TypedDict):
    """``GET /api/media/deletions``: the deletions not yet acknowledged, oldest first."""

    deletions: list[DeletionPayload]


class VariantPayload(TypedDict):
    """One variant file the media VM made, as the media DB records it: ``size`` (a name of
    ``shared.sizes.SIZES``), ``format`` (``ImageFormat``), ``bg`` (``BACKGROUNDS``), its real
    pixel ``width`` and ``height`` and its length in ``bytes``."""

    size: str
    format: str
    bg: str
    width: int
    height: int
    bytes: int


class CompletePayload(TypedDict):
    """Body of ``POST /api/media/complete/{id}`` sent by the media VM.

    ``variants`` (every file made, with its real pixel size) is optional: a media VM older
    than it does not send it, and the main API then knows only ``sizes_available``.
    """

    media_id: str
    permanent_url: str
    processing_complete: bool
    ai_enhanced: bool
    formats_available: list[str]
    sizes_available: list[str]
    ai_analysis: dict[str, Any]
    variants: NotRequired[list[VariantPayload]]
    #: Processing metrics (``media_vm/processing_metrics.py``: ``steps_ms``, ``processing_ms``,
    #: ``original_bytes``, ``variant_bytes``, ``outputs``), also ``ai_analysis["processing"]``;
    #: null for an image processed before they were recorded, absent from an older media VM.
    metrics: NotRequired[dict[str, Any] | None]


#: Optional keys of :class:`CompletePayload` (``from __future__ import annotations`` hides
#: ``NotRequired`` from ``__required_keys__``, so they are named here).
COMPLETE_OPTIONAL_KEYS: tuple[str, ...] = ("variants", "metrics")
COMPLETE_REQUIRED_KEYS: tuple[str, ...] = tuple(
    key for key in CompletePayload.__annotations__ if key not in COMPLETE_OPTIONAL_KEYS
)

#: Fields of ``media_ai_analysis`` / ``ai_analysis`` (the rich payload).
ANALYSIS_FIELDS: tuple[str, ...] = (
    "dominant_colors",
    "detected_objects",
    "detected_text",
    "style_classification",
    "medium_detected",
    "subject_matter",
    "quality_score",
    "mood_keywords",
    "confidence_score",
)


#: What the media VM's analysis adds to ``ANALYSIS_FIELDS`` (see media_vm/imaging/analysis.py).
ANALYSIS_LOCAL_FIELDS: tuple[str, ...] = (
    "brand_colors",
    "brand_colors_basis",
    "detected_text_status",
    "detected_text_confidence",
    "medium_confidence",
    "medium_basis",
    "quality_parts",
    "width",
    "height",
    "has_alpha",
    "format",
    "background_removed",
    "background_reason",
    "phash",
    "placeholder",
    "exif",
    "embedding_version",
    "analyser",
)

#: Added by the worker and the optional vision providers.
ANALYSIS_WORKER_FIELDS: tuple[str, ...] = (
    "duplicate_of",
    "duplicate_distance",
    "duplicate_similarity",
    "duplicate_exact",
    "providers",
    "labels",
    "detected_text_source",
    "provider_colors",
    "provider_classifications",
    "raw_google_response",
    "raw_gpt4_response",
)


def smart_url(base_url: str, media_id: str, size: str = "detail") -> str:
    """The permanent URL a frontend uses for a processed image."""
    return f"{base_url.rstrip('/')}/{media_id}?size={size}"
