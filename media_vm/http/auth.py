"""Who may ask what of the media VM's server: ``/serve`` is public, everything else needs a media key.

The main API sends ``Authorization: Bearer <key>``, the same scheme it asks of the VM on its
own ``/api/media/*`` endpoints. The server accepts any key of its ``MAIN_API_KEY`` list
(:attr:`media_vm.config.Settings.accepted_keys`), as the main API accepts any of its
``MEDIA_API_KEY`` list, so a key is rotated on both sides without a moment where one side
refuses the other. ``/health`` answers anyone its status, and its detail only with a key.
"""

from __future__ import annotations

import hmac

from media_vm.http.wsgi import HTTPError, Request

#: The challenge of a 401, as the main API words it.
MEDIA_KEY_REALM = 'Bearer realm="media"'


def bearer_value(request: Request) -> str | None:
    """The credential of an ``Authorization: Bearer <value>`` header, if there is one."""
    parts = request.header("Authorization").split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    return parts[1]


def has_media_key(request: Request, keys: tuple[str, ...]) -> bool:
    """Whether the request carries one of ``keys``, compared in constant time.

    Every key is compared, even after a match, so the time taken says nothing about which key
    (or how much of one) was right.
    """
    given = bearer_value(request)
    if not given or not keys:
        return False
    given_bytes = given.encode("latin-1", "replace")  # WSGI hands header bytes over as latin-1
    matches = [hmac.compare_digest(given_bytes, key.encode("utf-8")) for key in keys]
    return any(matches)


def media_key_required(request: Request) -> HTTPError:
    """The 401 for a request to a key-protected route without a valid key."""
    return HTTPError(401, "a valid media key is required (Authorization: Bearer <MAIN_API_KEY>)",
                     {"path": request.path}, [("WWW-Authenticate", MEDIA_KEY_REALM)])
