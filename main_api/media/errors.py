"""The media app's error messages, one per case and resource (``main_api.common.error_messages``):
uploads, the media VM's API, analysis, the image proxy, direct uploads and the event stream."""

from __future__ import annotations

from main_api.common.error_messages import error_message

UPLOADS = "Uploads: /api/uploads/{id} (GET, PATCH, DELETE) and /api/uploads/{id}/retry"
UPLOAD_NOT_FOUND = error_message(
    UPLOADS, 404, "no such upload",
    "an unknown id, someone else's upload, or one already deleted: the same on every method", ("id",))
UPLOAD_DELETE_NOT_OWNER = error_message(UPLOADS, 403, "only the upload's owner may delete it",
                                        "DELETE with the media key")
UPLOAD_RETRY_DUPLICATE = error_message(
    UPLOADS, 409, "this upload repeats an earlier one: retry that one",
    "retry of a duplicate (duplicate_of names the upload to retry)", ("id", "duplicate_of"))
UPLOAD_RETRY_NOT_FAILED = error_message(UPLOADS, 409, "only a failed upload can be retried",
                                        "retry of an upload that has not failed", ("id", "status"))
UPLOAD_ORIGINAL_GONE = error_message(
    UPLOADS, 410, "the original is no longer kept; the image must be uploaded again",
    "retry after FAILED_RETENTION_DAYS (or once the temp original is gone)", ("id",))
UPLOAD_BACKGROUND_NOT_LOGO = error_message(UPLOADS, 400, "only a logo has a background to choose",
                                           "PATCH background on another data type", ("field", "data_type"))

MEDIA_VM = "The media VM's API: /api/media/* (with the media key; every error also says \"success\": false)"
MEDIA_UPLOAD_NOT_FOUND = error_message(
    MEDIA_VM, 404, UPLOAD_NOT_FOUND.message,
    "complete, progress or cleanup of an unknown (or deleted) upload id", ("id",))
MEDIA_DELETION_NOT_FOUND = error_message(MEDIA_VM, 404, "no such deletion", "deletions/{id}/done of an unknown id",
                                         ("id",))
MEDIA_ALREADY_PROCESSED = error_message(
    MEDIA_VM, 409, "image was already processed with another media id",
    "complete of a finished upload with a different media id", ("id", "status", "media_id"))
MEDIA_COMPLETE_FAILED = error_message(MEDIA_VM, 409, "image has failed; retry it before completing",
                                      "complete of a failed upload", ("id", "status"))
MEDIA_ID_TAKEN = error_message(MEDIA_VM, 409, "media id already belongs to another image",
                               "complete or progress with another upload's media id", ("media_id",))
MEDIA_FAIL_FINISHED = error_message(MEDIA_VM, 409, "image is already processed; refusing to fail it",
                                    "cleanup of a processed or complete upload", ("id", "status"))
MEDIA_UNKNOWN_SIZES = error_message(
    MEDIA_VM, 400,
    "the media VM made sizes this main API does not know ({sizes}): the two services' outputs configurations "
    "(MEDIA_OUTPUTS_FILE) differ", "complete naming sizes the outputs file lacks (the upload is failed too)",
    ("field", "unknown"))

ANALYSIS = "Analysis: /api/media/analysis/{media_id} and /api/media/similar/{media_id}"
PROCESSED_IMAGE_NOT_FOUND = error_message(
    ANALYSIS, 404, "no processed image with this media id",
    "an unknown media id, one not processed yet, or someone else's: the same on both endpoints", ("media_id",))
SIMILAR_SCOPE_ALL = error_message(ANALYSIS, 403, "scope=all needs the media key", "similar?scope=all with a user token",
                                  ("scope",))

IMAGES = "Images: /api/images/{media_id} (public)"
IMAGE_NOT_FOUND = error_message(
    IMAGES, 404, "no such image",
    "a media id that is not one (not 32 hex characters) or that the media VM does not have (deleted)",
    ("media_id",))
IMAGE_BACKEND_UNAVAILABLE = error_message(IMAGES, 502, "media backend unavailable",
                                          "the media VM cannot be reached", ("media_id",))
IMAGE_BACKEND_ERROR = error_message(IMAGES, 502, "media backend error",
                                    "the media VM answered with an error of its own", ("media_id", "upstream_status"))
IMAGE_BACKEND_TIMEOUT = error_message(IMAGES, 504, "media backend timed out", "the media VM did not answer in time",
                                      ("media_id",))

DIRECT = "Direct uploads: PUT /api/uploads/direct/{token}, and the key given to POST /api/artworks"
DIRECT_URL_INVALID = error_message(DIRECT, 403, "this upload URL is not valid", "a tampered PUT URL", ("field",))
DIRECT_URL_EXPIRED = error_message(DIRECT, 410, "this upload URL has expired; ask for a new one",
                                   "a PUT after DIRECT_UPLOAD_SECONDS", ("field",))
DIRECT_URL_USED = error_message(DIRECT, 409, "this upload URL has been used already", "a second PUT", ("field",))
DIRECT_EMPTY = error_message(DIRECT, 400, "the upload is empty", "a PUT (or a key) with no bytes", ("field",))
DIRECT_KEY_NOT_FOUND = error_message(DIRECT, 400, "no such upload key", "an unknown key, or someone else's",
                                     ("field",))
DIRECT_KEY_USED = error_message(DIRECT, 400, "this upload key has been used already",
                                "a key an artwork was already created with", ("field",))
DIRECT_KEY_EXPIRED = error_message(DIRECT, 400, "this upload key has expired",
                                   "a key past DIRECT_UPLOAD_SECONDS, its bytes in time or not", ("field",))
DIRECT_KEY_NOTHING = error_message(DIRECT, 400, "nothing has been uploaded with this key",
                                   "a key whose PUT (or bucket POST) never came", ("field",))

EVENTS = "Upload event stream: GET /api/uploads/events"
EVENTS_UNAUTHENTICATED = error_message(
    EVENTS, 401, "a valid ticket, token or session is required",
    "no ticket, an expired or forged one, and no token or session", ("ticket",))
EVENTS_BAD_LAST_EVENT_ID = error_message(
    EVENTS, 400, "{name} must be a decimal number: the id of the last event received",
    "Last-Event-ID (or last_event_id) that is not a decimal number", ("fields",))
EVENTS_TOO_MANY = error_message(EVENTS, 429, "too many open event streams",
                                "past UPLOAD_EVENTS_MAX_STREAMS open streams of yours", ("max_streams",))

IMAGES_SENT = "Every image sent (PATCH /users/me, a URL import, an artwork's key): the gate's verdict"
FILE_TOO_LARGE = error_message(IMAGES_SENT, 413, "file is larger than the limit of {limit} bytes",
                               "a file over MAX_UPLOAD_BYTES (or a direct upload's declared size)",
                               ("field", "max_bytes"))
FILE_EMPTY = error_message(IMAGES_SENT, 400, "file is empty", "no bytes", ("field",))
NOT_AN_IMAGE = error_message(IMAGES_SENT, 400, "not an accepted image type (JPEG, PNG, WebP, GIF, AVIF, HEIF, TIFF)",
                             "the content is no image we take (names and Content-Type do not count)",
                             ("field", "accepted"))
IMAGE_CORRUPT = error_message(IMAGES_SENT, 400, "image is truncated or corrupt", "it does not decode", ("field",))
IMAGE_POLYGLOT = error_message(IMAGES_SENT, 400, "image carries active content (a polyglot file) and is refused",
                               "HTML or script markers in the file", ("field", "found"))
IMAGE_TEXT_TOO_LARGE = error_message(IMAGES_SENT, 400, "image is refused: its {reason}",
                                     "PNG text chunks that decompress past the limit", ("field", "max_text_bytes"))
IMAGE_TOO_MANY_PIXELS = error_message(IMAGES_SENT, 400, "image is {width}x{height}, over the limit of {limit} pixels",
                                      "more pixels than the gate decodes", ("field", "max_pixels", "width", "height"))
IMAGE_TOO_MANY_FRAMES = error_message(IMAGES_SENT, 400, "animation has {frames} frames, over the limit of {limit}",
                                      "an animation past the frame limit", ("field", "max_frames", "frames"))
IMAGE_TOO_MANY_SCANS = error_message(
    IMAGES_SENT, 400,
    "JPEG has more than {limit} progressive scans (each one a full decoding pass), and is refused",
    "a progressive JPEG past the scan limit", ("field", "max_scans"))
IMAGE_NO_STILL = error_message(IMAGES_SENT, 400, "animated AVIF with no still image or first frame that can be decoded",
                               "an AVIF sequence with nothing to show", ("field",))

PROFILE_UPLOADS = "Your profile and its uploads: PATCH /users/me, POST /api/uploads/from-url"
UNKNOWN_UPLOAD_FIELD = error_message(
    PROFILE_UPLOADS, 400, "unknown upload field {field!r}",
    "a file field of PATCH /users/me, or the field of a URL import, that is not an upload field",
    ("field", "accepted"))
ONE_FILE_PER_FIELD = error_message(PROFILE_UPLOADS, 400, "one file per field", "two files in one field", ("field",))

URL_IMPORT = "URL import: POST /api/uploads/from-url (extra.reason names the case)"
URL_TOO_LONG = error_message(URL_IMPORT, 400, "the URL is longer than {max_chars} characters", "reason bad_url",
                             ("reason",))
URL_NOT_VALID = error_message(URL_IMPORT, 400, "not a valid URL: {cause}", "reason bad_url", ("reason", "url"))
URL_NO_HOST = error_message(URL_IMPORT, 400, "the URL has no host", "reason bad_url", ("reason", "url"))
URL_SCHEME = error_message(URL_IMPORT, 400, "only http and https URLs can be imported", "reason scheme",
                           ("reason", "url", "scheme"))
URL_CREDENTIALS = error_message(
    URL_IMPORT, 400, "a URL with a user name or password (user:pass@host) is refused: credentials are never sent",
    "reason credentials", ("reason", "url"))
URL_ADDRESS = error_message(URL_IMPORT, 400, "the URL's host {host} is not allowed",
                            "reason address: it resolves to a private, loopback, ... address (never told)",
                            ("reason", "url", "host"))
URL_REDIRECTS = error_message(URL_IMPORT, 400, "more than {max_redirects} redirects", "reason too_many_redirects",
                              ("reason", "max_redirects", "url"))
URL_BUSY = error_message(URL_IMPORT, 429, "{limit} imports from URLs are running on this server; try again in {wait} s",
                         "reason busy: URL_IMPORT_MAX_IN_FLIGHT imports at once; Retry-After says when",
                         ("reason", "max_in_flight", "retry_after"))
URL_STATUS = error_message(URL_IMPORT, 502, "{host} answered {status}, not 200", "reason status",
                           ("reason", "url", "status"))
URL_UNREACHABLE = error_message(URL_IMPORT, 502, "could not fetch from {host}:{port}: {cause}",
                                "reason unreachable: no such name, refused, TLS", ("reason", "url", "host"))
URL_BROKE_OFF = error_message(URL_IMPORT, 502, "the body from {host} broke off: {cause}", "reason unreachable",
                              ("reason", "url"))
URL_TIMEOUT = error_message(URL_IMPORT, 504, "the server did not send the image within {seconds} seconds",
                            "reason timeout: URL_IMPORT_TIMEOUT_SECONDS", ("reason", "timeout_seconds"))
