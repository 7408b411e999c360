"""Every error message the API answers with, declared once: one wording per case and resource.

A resource's messages are :class:`ErrorMessage` constants in its app's ``errors`` module
(``main_api.media.errors``, ``main_api.artworks.errors``, ...: every installed app's is found,
so this module names no app above it); the code raises them
(``raise UPLOAD_NOT_FOUND.error({"id": 42})``), the OpenAPI schema shows them as examples
(:meth:`ErrorMessage.response`), and ``python -m main_api errors`` writes them as the table of
``docs/reference/errors.md``, so that a frontend can map each message it may get. The same case
(an unknown id, someone else's id) answers the same message on every method of a resource.

A message with ``{placeholders}`` is a template: :meth:`ErrorMessage.error` fills it from its
keyword arguments, and the table shows it as declared.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.utils.module_loading import autodiscover_modules
from rest_framework import status as http

from main_api.common.exceptions import ApplicationError, ConflictError, GoneError, NotFoundError

_CLASSES: dict[int, type[ApplicationError]] = {
    http.HTTP_404_NOT_FOUND: NotFoundError, http.HTTP_409_CONFLICT: ConflictError, http.HTTP_410_GONE: GoneError,
}

#: Every declared message, in declaration order (filled as the modules are imported).
REGISTRY: list[ErrorMessage] = []


@dataclass(frozen=True)
class ErrorMessage:
    """One error case of one resource: its HTTP status, its message and when it is answered.

    ``resource``: the heading it is listed under (``"uploads"``, ``"/api/media/* (the media
    VM)"``); ``when``: the case, in words for the table; ``extra``: the keys of ``extra`` it
    carries, for the table; ``module``: where it is declared (its app orders the table).
    """

    resource: str
    status: int
    message: str
    when: str
    extra: tuple[str, ...] = ()
    module: str = field(default="", compare=False)

    def error(self, extra: dict[str, Any] | None = None, **fill: Any) -> ApplicationError:
        """The exception to raise: of the class for :attr:`status` (``NotFoundError`` for a
        404, ...), with the message (a template filled from ``fill``) and ``extra``."""
        cls = _CLASSES.get(self.status, ApplicationError)
        message = self.message.format(**fill) if fill else self.message
        if cls is ApplicationError:
            return ApplicationError(message, extra, status_code=self.status)
        return cls(message, extra)

    def body(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The answer's JSON body, ``{"message", "extra"}`` (for examples)."""
        return {"message": self.message, "extra": extra or {k: "..." for k in self.extra}}


def error_message(resource: str, status: int, message: str, when: str, extra: tuple[str, ...] = ()) -> ErrorMessage:
    """Declare (and register) one message of ``resource``; a module-level constant holds it."""
    # the declaring module, as collections.namedtuple finds it: the table lists apps in INSTALLED_APPS order
    declared = ErrorMessage(resource, status, message, when, extra, sys._getframe(1).f_globals.get("__name__", ""))
    REGISTRY.append(declared)
    return declared


def all_messages() -> list[ErrorMessage]:
    """Every declared message, by resource (in the order of ``INSTALLED_APPS``, whose ``errors``
    modules are imported here, as the admin finds ``admin`` modules) and status."""
    autodiscover_modules("errors")
    app_names = [config.name for config in apps.get_app_configs()]

    def app_index(message: ErrorMessage) -> int:
        owners = [i for i, name in enumerate(app_names) if message.module.startswith(f"{name}.")]
        return owners[-1] if owners else len(app_names)

    resource_order: dict[str, tuple[int, int]] = {}
    for i, message in enumerate(REGISTRY):  # a resource is listed where its first app lists it
        resource_order[message.resource] = min(resource_order.get(message.resource, (len(app_names) + 1, i)),
                                               (app_index(message), i))
    return sorted(REGISTRY, key=lambda m: (resource_order[m.resource], m.status))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def errors_table() -> str:
    """``docs/reference/errors.md``: each resource's messages by status (what ``python -m main_api
    errors`` prints)."""
    lines = [
        "# Error messages",
        "",
        "Every error answer is `{\"message\": \"...\", \"extra\": {...}}` (under `/api/media/*` also",
        "`\"success\": false`). These are the messages, one per case: the same case (an unknown id, someone",
        "else's id) answers the same message on every method of a resource, so a frontend can map them.",
        "A `{name}` is filled in; the message of a `400 Validation error` is always that, and",
        "`extra.fields` names each field with its complaints. Written by `python -m main_api errors`",
        "from the `errors` modules of `main_api/*/`; a test fails when this file differs from its output.",
    ]
    resource = None
    for m in all_messages():
        if m.resource != resource:
            resource = m.resource
            lines += ["", f"## {resource}", "", "| status | message | when | extra |", "|---|---|---|---|"]
        extra = ", ".join(f"`{k}`" for k in m.extra)
        lines.append(f"| {m.status} | `{_cell(m.message)}` | {_cell(m.when)} | {extra} |")
    return "\n".join(lines) + "\n"
