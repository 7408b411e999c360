"""Where a URL import may connect, and how: the address rule, the ``host:port`` allow-list and
the requests adapter that applies both on every connection (``main_api.media.intake.url_import``
fetches through it; its module doc says why requests-hardened and what is added to it).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import requests
from django.core.exceptions import ImproperlyConfigured
from requests.adapters import HTTPAdapter
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES
from requests_hardened.ip_filter_adapter import IPFilterAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

#: The port of each scheme an import may use, when the URL names none.
DEFAULT_PORTS = {"http": 80, "https": 443}
_ALLOWED_HOST_ENTRY = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):[0-9]{1,5}$")


class AddressRefused(requests.RequestException):
    """Raised inside the adapter: ``host`` resolved to ``address``, which :func:`address_refused` refuses."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} resolves to {address}")
        self.host = host
        self.address = address


def address_refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether a fetch may not connect to ``address``: anything but a public unicast address.

    IPv4-mapped IPv6 (``::ffff:127.0.0.1``) is judged as the IPv4 address it maps. Refused:
    loopback, private (RFC 1918, ULA ``fc00::/7``), link-local, site-local (``fec0::/10``),
    multicast, reserved, unspecified, shared CGNAT ``100.64.0.0/10``, documentation, benchmark,
    Teredo, and requests-hardened's extra ranges (6to4, NAT64, 6to4 relay, ORCHIDv2, SRv6).
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if (not address.is_global or address.is_loopback or address.is_private or address.is_link_local
            or address.is_multicast or address.is_reserved or address.is_unspecified):
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return True
    return any(address in network for network in EXTRA_BLOCKED_NET_RANGES)


def allowed_hosts_parse(entries: Iterable[str]) -> frozenset[tuple[str, int]]:
    """``URL_IMPORT_ALLOWED_HOSTS`` entries (``host:port``, IPv6 as ``[::1]:8080``) as
    ``(lower-case host without brackets, port)``. Raises ``ImproperlyConfigured`` naming an entry
    that is not exactly ``host:port``."""
    parsed = set()
    for entry in entries:
        if not _ALLOWED_HOST_ENTRY.match(entry) or not 0 < int(entry.rsplit(":", 1)[1]) < 65536:
            raise ImproperlyConfigured(
                f"URL_IMPORT_ALLOWED_HOSTS: {entry!r} is not an exact host:port (e.g. 127.0.0.1:8080, [::1]:8080)"
            )
        host, port = entry.rsplit(":", 1)
        parsed.add((host.strip("[]").lower(), int(port)))
    return frozenset(parsed)


def host_port(url: str) -> tuple[str, int]:
    """``(host, port)`` of an absolute URL: the host lower-cased without brackets, the scheme's
    default port when none is named (0 for a scheme that has none here)."""
    parts = urlsplit(url)
    return (parts.hostname or ""), (parts.port or DEFAULT_PORTS.get(parts.scheme, 0))


class _ReportsSocket:
    """Mixed into urllib3's connection classes: ``on_socket`` gets each new socket once it is
    connected (before any TLS handshake wraps it)."""

    on_socket: Callable[[socket.socket], None]

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        self.on_socket(sock)
        return sock


def _reporting_pools(on_socket: Callable[[socket.socket], None]) -> dict[str, type[HTTPConnectionPool]]:
    """urllib3 pool classes by scheme whose connections hand each new socket to ``on_socket``."""
    report = {"on_socket": staticmethod(on_socket)}
    plain = type("ReportingHTTPConnection", (_ReportsSocket, HTTPConnection), report)
    secure = type("ReportingHTTPSConnection", (_ReportsSocket, HTTPSConnection), report)
    return {"http": type("ReportingHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": plain}),
            "https": type("ReportingHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": secure})}


class CheckedAdapter(IPFilterAdapter):
    """requests-hardened's ``IPFilterAdapter`` (resolve once, refuse non-public addresses, connect
    to the checked address with ``Host``/SNI kept on the name) with our stricter rule
    (:func:`address_refused`) on top, and ``allowed``: exact ``(host, port)`` pairs reached as
    named without the address check (an operator's own image host, a test's server).
    ``on_socket``, when given, gets every socket the adapter connects, as soon as it is connected
    (for the fetch's deadline to shut it down)."""

    def __init__(self, *, https: bool, allowed: frozenset[tuple[str, int]],
                 on_socket: Callable[[socket.socket], None] | None = None) -> None:
        self.on_socket = on_socket  # before HTTPAdapter.__init__, which builds the pool manager
        super().__init__(is_https_proto=https, allow_loopback=False)
        self.allowed = allowed

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        if self.on_socket is not None:
            self.poolmanager.pool_classes_by_scheme = _reporting_pools(self.on_socket)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        if host_port(request.url) in self.allowed:
            return HTTPAdapter.build_connection_pool_key_attributes(self, request, verify, cert)
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        pinned = host_params["host"]  # the address requests-hardened resolved and checked
        if address_refused(ipaddress.ip_address(pinned.strip("[]"))):
            raise AddressRefused(host_port(request.url)[0], pinned.strip("[]"))
        return host_params, pool_kwargs
