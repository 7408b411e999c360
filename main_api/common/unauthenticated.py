"""Telling, from a request's method and path alone, that it cannot pass without credentials.

For the ASGI layer (``main_api.common.asgi.RequestBodyGuard``), which answers such a request 401
before Django reads its body. A module of its own: ``authentication`` is imported by DRF's
settings while ``rest_framework.views`` loads, so it cannot import the views itself.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib.auth.models import AnonymousUser
from django.urls import Resolver404, resolve
from rest_framework.views import APIView


def anonymous_challenge(method: str, path: str) -> str | None:
    """The ``WWW-Authenticate`` challenge of the view at ``path`` when it refuses a ``method``
    request that carries no credentials at all, whatever else it sends; None when such a request
    might pass (or the view's answer cannot be told without running it).

    The view is found with Django's URL resolver; only DRF views count. Each of its permission
    classes is asked, as DRF would after authentication, about a caller with no user
    (``AnonymousUser``) and no ``auth``; the challenge is its first authenticator's, as DRF's 401
    sends it (no challenge: DRF would answer 403, left to it). Errors: none (a view whose
    permissions need more of the request than this gives None).
    """
    try:
        match = resolve(path)
    except Resolver404:
        return None
    view_class = getattr(match.func, "cls", None)
    if not (isinstance(view_class, type) and issubclass(view_class, APIView)):
        return None
    if not hasattr(view_class, method.lower()):  # DRF would answer 401 before its 405; Django may read the body
        return None
    nobody = SimpleNamespace(user=AnonymousUser(), auth=None, method=method.upper())
    try:
        view = view_class(**getattr(match.func, "initkwargs", {}))
        if all(permission.has_permission(nobody, view) for permission in view.get_permissions()):
            return None
        authenticators = view.get_authenticators()
        return (authenticators[0].authenticate_header(nobody) or None) if authenticators else None
    except Exception:  # noqa: BLE001 - a permission that reads more of the request: the view decides, as before
        return None
