"""The media VM's WSGI application: one route table, and errors as JSON.

``ROUTES`` maps method + path pattern to a route (one module each under
:mod:`media_vm.http.routes`). A path no route matches is 404, a method its route does not
take is 405 (with ``Allow``), an exception a route did not expect is 500, all in the main
API's error shape ``{"message", "extra"}``; a route's own errors are raised as
:class:`~media_vm.http.wsgi.HTTPError`. ``HEAD`` is answered wherever ``GET`` is; ``TRACE``
(and its cousins) is 405 on every path.

Only ``/serve`` and ``/health`` are public; every other route answers 401 without a media key
(:mod:`media_vm.http.auth`), and ``/health`` tells its detail only to a key. Every response
carries ``X-Content-Type-Options: nosniff``: error bodies echo what the client sent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from media_vm.config import Settings
from media_vm.db import Repository, make_engine, migrate
from media_vm.http.auth import has_media_key, media_key_required
from media_vm.http.routes.health import HealthRoute
from media_vm.http.routes.metrics import MetricsRoute
from media_vm.http.routes.serve import ServeRoute
from media_vm.http.routes.similar import SimilarRoute
from media_vm.http.wsgi import HTTPError, Request, Response, StartResponse, error_response
from media_vm.storage import Storage, make_storage

log = logging.getLogger(__name__)

Handler = Callable[[Request], Response]

#: Methods refused on every path, whatever the route: TRACE echoes the request (cross-site
#: tracing), CONNECT and TRACK have no business here either.
REFUSED_METHODS = frozenset({"TRACE", "TRACK", "CONNECT"})


@dataclass(frozen=True)
class Route:
    """``method`` requests whose path matches ``pattern`` (whole) go to ``handler`` (its named
    groups become ``request.params``); a route that is not ``public`` needs a media key."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    public: bool = False


def route(method: str, pattern: str, handler: Handler, *, public: bool = False) -> Route:
    """A :class:`Route` from a regular expression's text (``re.error`` for a bad one)."""
    return Route(method, re.compile(pattern), handler, public)


class MediaApp:
    """The WSGI callable gunicorn runs (``media_vm.http:create_app()``).

    Collaborators may be passed in (tests, or a process that already has them); by default
    it makes the media DB engine from ``settings.database_url`` (and migrates it) and the store
    from ``settings``.
    """

    def __init__(self, settings: Settings, *, engine: Engine | None = None, storage: Storage | None = None) -> None:
        self.settings = settings
        if engine is None:
            engine = make_engine(settings.database_url)
            migrate(engine)
        self.engine = engine
        self.repo = Repository(engine)
        self.storage = storage if storage is not None else make_storage(settings)
        self.routes = (
            route("GET", r"/serve/(?P<media_id>[^/]+)/?", ServeRoute(settings, self.repo, self.storage),
                  public=True),
            route("GET", r"/similar/(?P<media_id>[^/]+)/?", SimilarRoute(self.repo)),
            route("GET", r"/health", HealthRoute(self.engine, self.storage), public=True),  # detail: key only
            route("GET", r"/metrics", MetricsRoute(self.repo)),
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except HTTPError as e:
            response = e.response()
        except Exception:  # noqa: BLE001 - a JSON 500, never a stack trace to the client
            log.exception("media server: error on %s %s", request.method, request.path)
            response = error_response(500, "internal error")
        if not any(name.lower() == "x-content-type-options" for name, _ in response.headers):
            response.headers = [*response.headers, ("X-Content-Type-Options", "nosniff")]
        return response.send(start_response)

    def dispatch(self, request: Request) -> Response:
        """The response of the route the request's method and path name (401 without a media
        key on a route that needs one)."""
        if request.method in REFUSED_METHODS:
            raise HTTPError(405, "method not allowed", {"method": request.method})
        method = "GET" if request.method == "HEAD" else request.method
        request.has_media_key = has_media_key(request, self.settings.accepted_keys)
        allowed = []
        for candidate in self.routes:
            m = candidate.pattern.fullmatch(request.path)
            if m is None:
                continue
            if candidate.method == method:
                if not (candidate.public or request.has_media_key):
                    raise media_key_required(request)
                request.params = m.groupdict()
                return candidate.handler(request)
            allowed.append(candidate.method)
        if allowed:
            methods = sorted({*allowed, *(["HEAD"] if "GET" in allowed else [])})
            raise HTTPError(405, "method not allowed", {"allowed": methods}, [("Allow", ", ".join(methods))])
        raise HTTPError(404, "not found", {"path": request.path})


def create_app() -> MediaApp:
    """Entry point for gunicorn: ``media_vm.http:create_app()`` (settings from the environment)."""
    return MediaApp(Settings.from_env())
