"""The artworks' error messages, one per case (``main_api.common.error_messages``). A refused
key of ``POST /api/artworks`` answers the direct uploads' messages (``main_api.media.errors``)."""

from __future__ import annotations

from main_api.common.error_messages import error_message

ARTWORKS = "Artworks: /api/artworks, /api/artworks/{id} (GET, PATCH, DELETE), /api/artworks/upload-url"
ARTWORK_NOT_FOUND = error_message(
    ARTWORKS, 404, "no such artwork", "an unknown id or someone else's artwork: the same on every method", ("id",))
ARTWORK_LIMIT = error_message(
    ARTWORKS, 429, "you have reached your limit of {artworks}",
    "POST /api/artworks or .../upload-url at ARTWORK_LIMIT (or the profile's artwork_limit): \"5 artworks\", "
    "\"1 artwork\"", ("limit",))
ARTWORK_CREATE_RACE = error_message(ARTWORKS, 409, "another artwork was created at the same moment; try again",
                                    "two creates took the same slug (a database without row locks)")
TAG_NOT_STRING = error_message(ARTWORKS, 400, "each tag must be a string", "a tag that is not a string", ("field",))
TAG_TOO_LONG = error_message(ARTWORKS, 400, "a tag has at most {max_chars} characters",
                             "a tag longer than ARTWORK_TAG_MAX_CHARS", ("field", "tag"))
TOO_MANY_TAGS = error_message(ARTWORKS, 400, "at most {max_tags} tags", "more than ARTWORK_MAX_TAGS tags",
                              ("field", "count"))

PUBLIC = "Public artworks: /api/users/{username}/artworks and /api/users/{username}/artworks/{slug}"
ARTIST_NOT_FOUND = error_message(PUBLIC, 404, "no such artist", "no active user of that name", ("username",))
PUBLIC_ARTWORK_NOT_FOUND = error_message(
    PUBLIC, 404, ARTWORK_NOT_FOUND.message, "no active artwork of that slug (hidden, processing and failed ones "
    "included)", ("username", "slug"))
