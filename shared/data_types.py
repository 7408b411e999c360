"""Data types of uploaded images and the mapping from upload fields to them."""

from __future__ import annotations

from enum import Enum


class DataType(str, Enum):
    """What an image is for; names the ``library/user_{id}/{data_type}/img/`` folder."""

    PRODUCT = "product"
    PROFILE = "profile"
    EVENT = "event"
    LOGO = "logo"
    SITES = "sites"
    #: An artwork's image (``/api/artworks``): made in :data:`shared.sizes.ARTWORK_SIZES`, its
    #: display size watermarked with the artist's username.
    ARTWORK = "artwork"


#: Multipart field of ``PATCH /users/me`` -> the data type of the image it carries.
UPLOAD_FIELDS: dict[str, DataType] = {
    "profile_image": DataType.PROFILE,
    "header_image": DataType.PROFILE,
    "logo_image": DataType.LOGO,
    "site_image": DataType.SITES,
    "product_image": DataType.PRODUCT,
    "event_image": DataType.EVENT,
}

#: Upload fields of the other endpoints (not ``PATCH /users/me``) -> the data type.
OTHER_UPLOAD_FIELDS: dict[str, DataType] = {
    "artwork": DataType.ARTWORK,
}

#: Every upload field any endpoint records on ``pending_images.field``.
ALL_UPLOAD_FIELDS: dict[str, DataType] = {**UPLOAD_FIELDS, **OTHER_UPLOAD_FIELDS}


def temp_subdir(data_type: DataType) -> str:
    """Folder under ``TEMP_IMAGES_DIR`` where an upload of this type waits."""
    if data_type is DataType.SITES:
        return "sites"
    if data_type is DataType.ARTWORK:
        return "artworks"
    return "profiles"
