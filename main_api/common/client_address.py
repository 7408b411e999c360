"""The client address of a request, and which forwarded headers are believed.

A proxy in front of the API (nginx) says who its client was in ``X-Forwarded-For`` and which
scheme it spoke in ``X-Forwarded-Proto``. Anyone else can send those headers too, so they are
believed only from the peers listed in ``FORWARDED_ALLOW_IPS`` (addresses or networks,
comma-separated, ``*`` for every peer; the variable gunicorn and uvicorn read; empty by default).

:class:`ForwardedHeaders` applies the rule once, at the edge of the ASGI app, before uvicorn's
access log, Django, django-axes or a throttle look at the request: from a trusted peer, the
client is the right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy (the one
nginx appended: whatever a client wrote to its left is never read); from any other peer, both
headers are dropped and the client is the peer. uvicorn's own proxy-headers middleware is off
(``main_api.common.serving``), so nothing before this rewrites the peer.

:func:`client_address` is the one place code asks "who is this": django-axes
(``AXES_CLIENT_IP_CALLABLE``), the upload throttle and the request logs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The request headers only a trusted proxy may send (lower-case, as ASGI carries them).
FORWARDED_HEADERS = (b"x-forwarded-for", b"x-forwarded-proto")


class TrustedProxies:
    """The peers whose forwarded headers are believed: parsed ``FORWARDED_ALLOW_IPS`` entries
    (an address, a network such as ``10.0.0.0/8``, or ``*``). Raises ``ValueError`` naming
    the entry that is neither."""

    def __init__(self, entries: Iterable[str]) -> None:
        entries = [e.strip() for e in entries if e.strip()]
        self.everyone = "*" in entries
        networks: list[Network] = []
        for entry in entries:
            if entry == "*":
                continue
            try:
                networks.append(ipaddress.ip_network(entry))
            except ValueError:
                raise ValueError(f"FORWARDED_ALLOW_IPS: {entry!r} is not an address or a network") from None
        self.networks = tuple(networks)

    def __contains__(self, address: str) -> bool:
        if self.everyone:
            return True
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


@lru_cache(maxsize=8)
def _parsed(entries: tuple[str, ...]) -> TrustedProxies:
    return TrustedProxies(entries)


def trusted_proxies() -> TrustedProxies:
    """``settings.FORWARDED_ALLOW_IPS`` (read per call, parsed once per value)."""
    value = settings.FORWARDED_ALLOW_IPS
    return _parsed(tuple(value.split(",") if isinstance(value, str) else value))


def client_address_of(peer: str, forwarded_for: str | None, trusted: TrustedProxies) -> str:
    """The client's address, from the connection's ``peer`` address and the request's
    ``X-Forwarded-For`` (None: absent): the peer itself unless it is ``trusted``; else the
    right-most entry that is not a trusted proxy (or the left-most, when all of them are). A
    malformed entry where the search stops gives the peer: a proxy appends an address."""
    if not forwarded_for or peer not in trusted:
        return peer
    entries = [e.strip() for e in forwarded_for.split(",") if e.strip()]
    for entry in reversed(entries):
        if entry not in trusted:
            return entry if _is_address(entry) else peer
    return entries[0] if entries and _is_address(entries[0]) else peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def client_address(request: HttpRequest | Any) -> str:
    """The client address of ``request`` (a Django or DRF request): ``REMOTE_ADDR``, which the
    ASGI edge (:class:`ForwardedHeaders`) has already set by the rule of this module. Under WSGI
    (``runserver``, tests' live server) it is the TCP peer and ``X-Forwarded-For`` is never read."""
    return str(request.META.get("REMOTE_ADDR") or "")


class ForwardedHeaders:
    """ASGI middleware: sets ``scope["client"]`` to the client's address by the rule of this
    module and drops ``X-Forwarded-For`` / ``X-Forwarded-Proto`` sent by an untrusted peer (so
    Django's ``SECURE_PROXY_SSL_HEADER`` only ever sees a trusted proxy's). uvicorn's access
    log reads the same scope, so it logs the same address."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            peer, port = scope["client"][0], scope["client"][1]
            trusted = trusted_proxies()
            if peer in trusted:
                values = [bytes(v).decode("latin-1") for k, v in scope.get("headers", ())
                          if k.lower() == b"x-forwarded-for"]
                client = client_address_of(peer, ",".join(values) or None, trusted)
                if client != peer:
                    scope["client"] = (client, port)
            else:
                scope["headers"] = [(k, v) for k, v in scope.get("headers", ()) if k.lower() not in FORWARDED_HEADERS]
        await self.app(scope, receive, send)
