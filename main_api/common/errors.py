"""The messages every endpoint may answer: authentication, unknown URLs, bodies too large,
validation (``main_api.common.error_messages``). DRF's own are declared with DRF's text."""

from __future__ import annotations

from rest_framework import exceptions as drf

from main_api.common.error_messages import error_message
from main_api.common.lockout import MESSAGE as LOCKED_OUT_MESSAGE

RESOURCE = "Every endpoint"

VALIDATION = error_message(RESOURCE, 400, "Validation error", "a field is missing or wrong (body or query string); "
                           "extra.fields maps each field to its complaints", ("fields",))
NOT_AUTHENTICATED = error_message(RESOURCE, 401, str(drf.NotAuthenticated.default_detail),
                                  "no token, no session (or a session without its CSRF token on a write)",
                                  ("code",))
BAD_TOKEN = error_message(RESOURCE, 401, "Invalid token.", "a token that is not (or no longer) valid", ("code",))
FORBIDDEN = error_message(RESOURCE, 403, str(drf.PermissionDenied.default_detail),
                          "signed in, but this endpoint is not for you (a user token on a media-key endpoint)",
                          ("code",))
NOT_FOUND = error_message(RESOURCE, 404, str(drf.NotFound.default_detail),
                          "a URL no route matches (and a temp original you may not read: /temp_images/...)")
METHOD_NOT_ALLOWED = error_message(RESOURCE, 405, 'Method "{method}" not allowed.',
                                   "a method the endpoint does not take", ("code",))
BODY_TOO_LARGE = error_message(RESOURCE, 413, "request body too large",
                               "a request body (not a file) over DATA_UPLOAD_MAX_MEMORY_SIZE", ("max_bytes",))
THROTTLED = error_message(RESOURCE, 429, "Request was throttled. Expected available in {wait} seconds.",
                          "over a rate limit (the upload budget, UPLOAD_THROTTLE_RATE); Retry-After says when",
                          ("code",))
LOCKED_OUT = error_message(RESOURCE, 429, LOCKED_OUT_MESSAGE, "too many failed logins (the admin's sign-in)",
                           ("retry_after",))
SERVER_ERROR = error_message(RESOURCE, 500, "Internal server error.", "a bug: logged, never with its trace")
