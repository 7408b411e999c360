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
                                  "no token, no session (no media key on /api/media/*)",
                                  ("code",))
BAD_TOKEN = error_message(RESOURCE, 401, "Invalid token.", "a token that is not (or no longer) valid", ("code",))
CSRF_FAILED = error_message(RESOURCE, 403, "CSRF Failed: {reason}",
                            "a write with the session cookie but without X-CSRFToken (the csrftoken cookie's value)",
                            ("code",))
FORBIDDEN = error_message(RESOURCE, 403, str(drf.PermissionDenied.default_detail),
                          "signed in, but the action is not yours to take", ("code",))
NOT_FOUND = error_message(RESOURCE, 404, str(drf.NotFound.default_detail),
                          "a URL no route matches (and a temp original you may not read: /temp_images/...)")
METHOD_NOT_ALLOWED = error_message(RESOURCE, 405, str(drf.MethodNotAllowed.default_detail),
                                   "a method the endpoint does not take", ("code",))
BODY_TOO_LARGE = error_message(RESOURCE, 413, "request body too large",
                               "a request body (not a file) over DATA_UPLOAD_MAX_MEMORY_SIZE", ("max_bytes",))
THROTTLED = error_message(RESOURCE, 429, f"{drf.Throttled.default_detail} {drf.Throttled.extra_detail_plural}",
                          "over a rate limit (the upload budget, UPLOAD_THROTTLE_RATE); Retry-After says when",
                          ("code",))
LOCKED_OUT = error_message(RESOURCE, 429, LOCKED_OUT_MESSAGE, "too many failed logins (the admin's sign-in)",
                           ("retry_after",))
SERVER_ERROR = error_message(RESOURCE, 500, "Internal server error.", "a bug: logged, never with its trace")
