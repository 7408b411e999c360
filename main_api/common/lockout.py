"""Login lockout (django-axes): who is counted, what a success clears, and the answer while locked.

A username is locked after ``AXES_FAILURE_LIMIT`` failures against it from any address, and an
address after as many failures from it against any usernames (``AXES_LOCKOUT_PARAMETERS`` =
:func:`lockout_parameters`: two alternatives, not a combination). django-axes'
``AXES_RESET_ON_SUCCESS`` would delete, on any successful sign-in, every failure matching *either*
parameter of that request, so an account holder could sign in to their own account between guesses
at somebody else's and never be locked out. It is off; :func:`success_reset` clears only the
failures of the username that signed in.

The site's token form (``/login`` with an API token) goes through :func:`token_attempt_refused`
and :func:`token_attempt_failed`, so a wrong token counts against its address and a locked
address is refused there too.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.utils import reset
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse

from main_api.common.exceptions import error_body

MESSAGE = "Too many failed logins: this account or address is locked out. Try again later or ask an operator."


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: 429 with ``Retry-After`` (seconds of ``AXES_COOLOFF_TIME``, an
    upper bound: the lockout ends that long after the last failure; absent when only an operator
    can unlock). JSON ``{"message", "extra": {"retry_after"}}`` to a client that asks for JSON,
    plain text to the admin's login form."""
    cooloff = settings.AXES_COOLOFF_TIME
    seconds = int(cooloff.total_seconds()) if cooloff else None
    wants_json = "application/json" in request.headers.get("Accept", "") or (
        request.headers.get("X-Requested-With") == "XMLHttpRequest")
    if wants_json:
        response: HttpResponse = JsonResponse(error_body(MESSAGE, {"retry_after": seconds}), status=429)
    else:
        response = HttpResponse(MESSAGE, status=429, content_type="text/plain; charset=utf-8")
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


def lockout_parameters(request_or_attempt: Any, credentials: dict[str, Any] | None = None) -> list[str]:
    """``AXES_LOCKOUT_PARAMETERS``: ``["username", "ip_address"]``, each on its own (a username
    from anywhere; an address trying any usernames). An attempt without a username (the token
    form) is counted and judged by its address alone: else every such attempt would share one
    empty "username" and five wrong tokens anywhere would lock the token form for everybody."""
    if isinstance(request_or_attempt, HttpRequest) and not get_client_username(request_or_attempt, credentials):
        return ["ip_address"]
    return ["username", "ip_address"]


def success_reset(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: delete the failures against the username that signed in
    (from every address), and nothing else: the address's failures against other usernames stand."""
    reset(username=user.get_username())


#: what a token attempt reports as its credentials (it has no username; the key is never recorded)
TOKEN_CREDENTIALS = {"token": "********"}


def token_attempt_refused(request: HttpRequest) -> HttpResponse | None:
    """The lockout answer (429, :func:`lockout_response`) when the request's address is locked
    out; None when a token sign-in may be tried."""
    if AxesProxyHandler.is_allowed(request, TOKEN_CREDENTIALS):
        return None
    return lockout_response(request)


def token_attempt_failed(request: HttpRequest) -> None:
    """Count a wrong token as a failed login of the request's address (Django's
    ``user_login_failed``, which django-axes records)."""
    user_login_failed.send(sender=__name__, credentials=TOKEN_CREDENTIALS, request=request)
