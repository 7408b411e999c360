"""The upload object: what ``GET /api/uploads/{id}``, the owner's lists and the upload's events
show of an upload (:func:`upload_detail` builds it, :class:`UploadOutputSerializer` renders and
documents it, :func:`upload_json` writes it as the API's renderer does), and the derived fields
it is made of (stage, background, variants).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from drf_spectacular.utils import (
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from main_api.media.failure_reasons import failure_reason_for_owner
from main_api.media.intake import temp_storage
from main_api.media.models import Upload
from shared.naming import is_media_id
from shared.payloads import smart_url
from shared.sizes import BACKGROUNDS, SIZE_NAMES, SIZE_ORDER, ImageFormat, default_size_for
from shared.statuses import UploadStage

Status = Upload.Status


# --- uploads as their owner sees them (GET /api/uploads) ----------------------------------------

#: ``stage`` of an upload: where processing is. This module knows the coarse ones; the stages
#: between ``queued`` and ``processed`` (retrieved, thumbnail_ready, ...) come with live progress.
STAGE_QUEUED = UploadStage.QUEUED.value
STAGE_PROCESSED = UploadStage.PROCESSED.value
STAGE_FAILED = UploadStage.FAILED.value


def upload_owner_name(image: Upload) -> str:
    """The username of ``image``'s owner (an artwork's watermark)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.values_list("username", flat=True).get(pk=image.user_id)


def upload_stage(image: Upload) -> str:
    """Where ``image`` is (``shared.statuses.UploadStage``): ``failed``; ``processed`` once
    processed or complete; while pending, the last stage the media VM reported (``retrieved``,
    ``thumbnail_ready``, ``analysed``, ``variants_ready``) or ``queued`` before any."""
    if image.status == Status.FAILED:
        return STAGE_FAILED
    if image.is_finished:
        return STAGE_PROCESSED
    return image.progress or STAGE_QUEUED


def upload_background(image: Upload) -> str | None:
    """The background a logo's smart URLs serve by default (``original``/``removed``); None
    for every other data type."""
    if image.data_type != Upload.DataTypes.LOGO:
        return None
    return image.background or "original"


def upload_served_background(image: Upload) -> str | None:
    """``"removed"`` when the logo ``image``'s smart URLs serve its background-removed set by
    default: its owner chose it and the media VM made that set (or did not say which sets it
    made: an older VM); None otherwise (the original is served)."""
    if upload_background(image) != "removed":
        return None
    reported = [v for v in image.variants or [] if isinstance(v, dict)]
    return "removed" if not reported or any(v.get("bg") == "removed" for v in reported) else None


def _image_url(media_id: str, size: str, background: str | None) -> str:
    url = smart_url(settings.SMART_MEDIA_BASE_URL, media_id, size)
    return f"{url}&bg=removed" if background == "removed" else url


def upload_variants(image: Upload) -> list[dict[str, Any]]:
    """The sizes of a processed upload, narrowest first: ``{"size", "width", "height",
    "formats", "url"}`` each, for a ``srcset`` with ``w`` descriptors. Width and height are
    the real pixels of the files the media VM made for the upload's background (null when the
    VM did not report them: an older VM); ``url`` is its smart URL for that size. Empty until
    the upload is processed."""
    if not image.is_finished or not image.media_id:
        return []
    background = upload_served_background(image)
    wanted = background or "original"
    reported = [v for v in image.variants or [] if isinstance(v, dict)]
    by_size: dict[str, dict[str, Any]] = {}
    for variant in reported:
        if variant.get("bg") != wanted or variant.get("size") not in SIZE_ORDER:
            continue
        entry = by_size.setdefault(variant["size"], {
            "size": variant["size"], "width": variant.get("width"), "height": variant.get("height"), "formats": [],
        })
        if variant.get("format") not in entry["formats"]:
            entry["formats"].append(variant.get("format"))
    if not by_size:  # an older VM: the sizes without their pixels
        by_size = {size: {"size": size, "width": None, "height": None, "formats": list(image.formats_available)}
                   for size in image.sizes_available if size in SIZE_ORDER}
    entries = sorted(by_size.values(), key=lambda e: (e["width"] or 0, SIZE_ORDER[e["size"]]))
    for entry in entries:
        entry["formats"] = [f.value for f in ImageFormat if f.value in entry["formats"]]
        entry["url"] = _image_url(image.media_id, entry["size"], background)
    return entries


def upload_original_kept(image: Upload) -> bool:
    """Whether the temp original of ``image`` is still kept (in the temp storage) (a retry needs it); never for a
    duplicate, which has none of its own."""
    return bool(image.image_path) and temp_storage.exists(image.image_path or "")


def upload_detail(image: Upload, *, owner: bool = True) -> dict[str, Any]:
    """The upload object of ``GET /api/uploads/{id}`` for ``image`` (see the OutputSerializer
    of ``apis.uploads.UploadDetailApi`` and the README's "For frontend developers" for each field).
    ``owner``: the reader is the image's owner; anyone else (the media key) gets no GPS position.

    A duplicate (the same bytes uploaded again) shows the state and image of the upload it
    repeats, with its own ``id``, ``field``, ``original_name`` and ``created_at``, and
    ``duplicate_of`` naming that upload; it is not retryable itself (its original is retried)."""
    if image.duplicate_of is not None:
        return {
            **upload_detail(image.duplicate_of, owner=owner),
            "id": image.pk,
            "field": image.field or None,
            "original_name": image.original_name,
            "created_at": image.created_at,
            "retryable": False,
            "duplicate_of": image.duplicate_of_id,
        }
    analysis = image.ai_analysis if image.is_finished and isinstance(image.ai_analysis, dict) else None
    if analysis is not None and not owner:
        analysis = analysis_location_strip(analysis)
    background = upload_background(image)
    served = upload_served_background(image)
    failed = image.status == Status.FAILED
    # the media id is known from thumbnail_ready on (a progress report), and for good once processed
    media_id = image.media_id if image.media_id and (image.is_finished or image.status == Status.PENDING) else None
    duplicate_of = None
    duplicate_media_id = (analysis or {}).get("duplicate_of")
    if isinstance(duplicate_media_id, str) and is_media_id(duplicate_media_id):
        # a re-processing's look-alike is the run it re-did: the same image, not a duplicate
        duplicate_of = (Upload.objects.filter(user_id=image.user_id, media_id=duplicate_media_id)
                        .exclude(pk=image.reprocess_of_id or 0).values_list("pk", flat=True).first())
    return {
        "id": image.pk,
        "field": image.field or None,
        "data_type": image.data_type,
        "original_name": image.original_name,
        "status": image.status,
        "stage": upload_stage(image),
        "failure_reason": failure_reason_for_owner(image.failure_reason) if failed else None,
        "attempts": image.attempts,
        "retryable": failed and upload_original_kept(image),
        "created_at": image.created_at,
        "processed_at": image.processed_at,
        "media_id": media_id,
        "thumbnail_url": _image_url(media_id, "thumbnail", served) if media_id else None,
        "smart_url": _image_url(image.media_id, default_size_for(image.data_type), served)
        if image.is_finished and image.media_id else None,
        "width": _positive_int((analysis or {}).get("width")),
        "height": _positive_int((analysis or {}).get("height")),
        "variants": upload_variants(image),
        "background": background,
        "background_removed": (analysis or {}).get("background_removed") if background is not None else None,
        "duplicate_of": duplicate_of,
        "source_tool": image.source_tool or None,
        "placeholder": _dict_or_none((analysis or {}).get("placeholder")),
        "exif": _dict_or_none((analysis or {}).get("exif")),
        "analysis": analysis,
    }


def analysis_location_strip(analysis: dict[str, Any]) -> dict[str, Any]:
    """``analysis`` with ``exif.gps`` set to null (a copy; unchanged when it has no EXIF)."""
    exif = analysis.get("exif")
    if not isinstance(exif, dict) or exif.get("gps") is None:
        return analysis
    return {**analysis, "exif": {**exif, "gps": None}}


def _dict_or_none(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

log = logging.getLogger(__name__)


# --- uploads as a resource of their owner (/api/uploads) -----------------------------------------


@extend_schema_serializer(component_name="UploadPlaceholder")
class PlaceholderSerializer(serializers.Serializer):
    thumbhash = serializers.CharField(
        help_text="ThumbHash (github.com/evanw/thumbhash), base64: decode with thumbHashToDataURL for a blurred preview"
    )
    dominant_color = serializers.CharField(help_text="#rrggbb, the largest dominant colour (a flat fallback)")


@extend_schema_serializer(component_name="UploadGps")
class GpsSerializer(serializers.Serializer):
    lat = serializers.FloatField(help_text="decimal degrees, south negative")
    lon = serializers.FloatField(help_text="decimal degrees, west negative")


@extend_schema_serializer(component_name="UploadExif")
class ExifSerializer(serializers.Serializer):
    """Each field null when the file does not say."""

    camera_make = serializers.CharField(allow_null=True)
    camera_model = serializers.CharField(allow_null=True)
    lens = serializers.CharField(allow_null=True)
    taken_at = serializers.CharField(
        allow_null=True, help_text="ISO 8601; with an offset only when the camera recorded one"
    )
    exposure_time = serializers.FloatField(allow_null=True, help_text="seconds (0.008 is 1/125)")
    f_number = serializers.FloatField(allow_null=True)
    iso = serializers.IntegerField(allow_null=True)
    focal_length_mm = serializers.FloatField(allow_null=True, help_text="real focal length, not 35 mm-equivalent")
    gps = GpsSerializer(
        allow_null=True,
        help_text="only to the owner, and only stored when the owner's profile has keep_location on (off by default)",
    )


@extend_schema_serializer(component_name="Upload")
class UploadOutputSerializer(serializers.Serializer):
    """The upload object (``upload_detail``)."""

    @extend_schema_serializer(component_name="UploadVariant")
    class VariantSerializer(serializers.Serializer):
        size = serializers.ChoiceField(choices=list(SIZE_NAMES))
        width = serializers.IntegerField(allow_null=True, help_text="real pixel width of the served file")
        height = serializers.IntegerField(allow_null=True, help_text="real pixel height of the served file")
        formats = serializers.ListField(child=serializers.ChoiceField(choices=[f.value for f in ImageFormat]))
        url = serializers.CharField(help_text="its smart URL (/api/images/{media_id}?size=...)")

    id = serializers.IntegerField()
    field = serializers.CharField(allow_null=True, help_text="the PATCH /users/me field it came in")
    data_type = serializers.ChoiceField(choices=Upload.DataTypes.values)
    original_name = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=Upload.Status.values)
    stage = serializers.ChoiceField(
        choices=[stage.value for stage in UploadStage],
        help_text="where processing is, only ever forward: queued, retrieved, thumbnail_ready, analysed, "
        "variants_ready, processed; or failed at any point",
    )
    failure_reason = serializers.CharField(allow_null=True, help_text="why it failed, in words; null unless failed")
    attempts = serializers.IntegerField(help_text="processing rounds: 1, plus one per retry")
    retryable = serializers.BooleanField(help_text="failed, and its original is still kept: POST .../retry")
    created_at = serializers.DateTimeField()
    processed_at = serializers.DateTimeField(allow_null=True)
    media_id = serializers.CharField(allow_null=True, help_text="the image's id on the media VM, from "
                                     "thumbnail_ready on; null before (and once failed)")
    thumbnail_url = serializers.CharField(allow_null=True, help_text="the thumbnail's smart URL, servable from "
                                          "thumbnail_ready on; null before")
    smart_url = serializers.CharField(allow_null=True, help_text="the permanent URL (detail size) once processed")
    width = serializers.IntegerField(allow_null=True, help_text="of the upright original")
    height = serializers.IntegerField(allow_null=True, help_text="of the upright original")
    variants = VariantSerializer(many=True, help_text="narrowest first; empty until processed")
    background = serializers.ChoiceField(
        choices=list(BACKGROUNDS), allow_null=True, help_text="a logo's default background; null for other types"
    )
    background_removed = serializers.BooleanField(
        allow_null=True, help_text="a processed logo: whether background removal produced a cut-out"
    )
    duplicate_of = serializers.IntegerField(allow_null=True, help_text="id of your earlier upload of this image")
    source_tool = serializers.CharField(allow_null=True, help_text=(
        "the tool the upload said made it (dall-e, sora, stable-diffusion, ...): its variants include that tool's "
        "preset outputs, normal and hq; null: none"))
    placeholder = PlaceholderSerializer(
        allow_null=True, help_text="what to show while the image loads; null until processed"
    )
    exif = ExifSerializer(allow_null=True, help_text="camera facts from the file's EXIF; null until processed")
    analysis = serializers.DictField(allow_null=True, help_text="the stored analysis; null until processed")


def upload_representation(image: Upload, *, owner: bool = True) -> dict[str, Any]:
    """The upload object of ``image`` as ``GET /api/uploads/{id}`` answers it, before rendering:
    :class:`UploadOutputSerializer` over :func:`upload_detail` (``owner`` as there). JSON-ready:
    datetimes are ISO 8601 strings, nested objects plain dicts, fields in the serializer's order."""
    return UploadOutputSerializer(upload_detail(image, owner=owner)).data


def upload_json(representation: Mapping[str, Any]) -> bytes:
    """``representation`` (:func:`upload_representation`'s, or one read back from an upload
    event's JSON) as the body of ``GET /api/uploads/{id}``, byte for byte: UTF-8 JSON written by
    DRF's :class:`~rest_framework.renderers.JSONRenderer` under the project's ``REST_FRAMEWORK``
    settings (compact separators, non-ASCII as is, no NaN), the fields in
    :class:`UploadOutputSerializer`'s order.

    The representation goes through the serializer again (a no-op on its own output) so that the
    field order does not depend on the database: MySQL's JSON type, unlike SQLite and MariaDB,
    stores an object's keys in an order of its own. No newline in the output: it fits one SSE
    ``data:`` line. Raises ``KeyError`` for a mapping that is not an upload object (no ``id``)."""
    return JSONRenderer().render(UploadOutputSerializer(representation).data)


UPLOAD_EXAMPLE = {
    "id": 42, "field": "logo_image", "data_type": "logo", "original_name": "logo.png", "status": "complete",
    "stage": "processed", "failure_reason": None, "attempts": 1, "retryable": False,
    "created_at": "2026-11-30T08:00:00Z", "processed_at": "2026-11-30T08:00:04Z",
    "media_id": "0123456789abcdef0123456789abcdef",
    "thumbnail_url": "https://media.example.org/api/images/0123456789abcdef0123456789abcdef?size=thumbnail",
    "smart_url": "https://media.example.org/api/images/0123456789abcdef0123456789abcdef?size=detail",
    "width": 1600, "height": 900,
    "variants": [
        {"size": "thumbnail", "width": 300, "height": 300, "formats": ["avif", "webp", "jpeg", "png"],
         "url": "https://media.example.org/api/images/0123456789abcdef0123456789abcdef?size=thumbnail"},
        {"size": "detail", "width": 1200, "height": 675, "formats": ["avif", "webp", "jpeg", "png"],
         "url": "https://media.example.org/api/images/0123456789abcdef0123456789abcdef?size=detail"},
    ],
    "background": "original", "background_removed": True, "duplicate_of": None, "source_tool": None,
    "placeholder": {"thumbhash": "3OcRJYB4d3h/iIeHeEh3eIhw+j3A", "dominant_color": "#1e59c7"},
    "exif": {"camera_make": None, "camera_model": None, "lens": None, "taken_at": None, "exposure_time": None,
             "f_number": None, "iso": None, "focal_length_mm": None, "gps": None},
    "analysis": {"dominant_colors": ["#1e59c7"], "quality_score": 0.82, "width": 1600, "height": 900},
}
FAILED_UPLOAD_EXAMPLE = {
    **UPLOAD_EXAMPLE, "id": 43, "field": "profile_image", "data_type": "profile", "original_name": "me.jpg",
    "status": "failed", "stage": "failed", "retryable": True, "processed_at": None, "media_id": None,
    "failure_reason": "We could not read this image: the file is damaged or incomplete.",
    "thumbnail_url": None, "smart_url": None, "width": None, "height": None, "variants": [], "background": None,
    "background_removed": None, "placeholder": None, "exif": None, "analysis": None,
}
