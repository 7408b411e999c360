"""The users app's error messages (``main_api.common.error_messages``): ``/users/me`` and the URL
import. The image gate's verdicts (any upload) are ``main_api.media.errors``'s."""

from __future__ import annotations

from main_api.common.error_messages import error_message

USERS_ME = "Your profile and its uploads: PATCH /users/me, POST /api/uploads/from-url"
UNKNOWN_UPLOAD_FIELD = error_message(
    USERS_ME, 400, "unknown upload field {field!r}",
    "a file field of PATCH /users/me, or the field of a URL import, that is not an upload field",
    ("field", "accepted"))
ONE_FILE_PER_FIELD = error_message(USERS_ME, 400, "one file per field", "two files in one field", ("field",))
NO_LOGO = error_message(USERS_ME, 400, "only artist and promoter users have a logo",
                        "logo_image from a community user", ("field", "user_type"))

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
