"""The client-address rule (``main_api.common.client_address``) and the one helper every
part asks: django-axes, the upload throttle (``get_ident``) and the ASGI edge."""

from __future__ import annotations

import asyncio

import pytest
from django.test import RequestFactory

from main_api.common.client_address import ForwardedHeaders, TrustedProxies, client_address_of
from main_api.common.throttling import UploadRateThrottle

NGINX = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])


@pytest.mark.parametrize(("peer", "forwarded_for", "client"), [
    ("127.0.0.1", None, "127.0.0.1"),
    ("127.0.0.1", "203.0.113.9", "203.0.113.9"),
    ("127.0.0.1", "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client's own entry, left of nginx's
    ("127.0.0.1", "203.0.113.9, 10.1.2.3", "203.0.113.9"),  # a second trusted proxy is skipped
    ("127.0.0.1", "not-an-address", "127.0.0.1"),
    ("127.0.0.2", "203.0.113.9", "127.0.0.2"),  # not a trusted peer: its header means nothing
])
def test_the_rule(peer, forwarded_for, client):
    assert client_address_of(peer, forwarded_for, NGINX) == client


def test_nobody_is_trusted_by_default(settings):
    assert settings.FORWARDED_ALLOW_IPS == []
    assert client_address_of("127.0.0.1", "203.0.113.9", TrustedProxies([])) == "127.0.0.1"
    with pytest.raises(ValueError, match="FORWARDED_ALLOW_IPS"):
        TrustedProxies(["nginx"])


def edge(settings_value: list[str], peer: str, headers: list[tuple[bytes, bytes]]) -> dict:
    seen: dict = {}

    async def app(scope, receive, send):
        seen.update(scope)

    scope = {"type": "http", "client": (peer, 5555), "headers": headers}
    asyncio.run(ForwardedHeaders(app)(scope, None, None))
    return seen


def test_the_edge_rewrites_the_peer_or_drops_the_headers(settings):
    headers = [(b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-proto", b"https"), (b"host", b"x")]
    settings.FORWARDED_ALLOW_IPS = []
    untrusted = edge([], "127.0.0.1", headers)
    assert untrusted["client"] == ("127.0.0.1", 5555) and untrusted["headers"] == [(b"host", b"x")]
    settings.FORWARDED_ALLOW_IPS = ["127.0.0.1"]
    trusted = edge(["127.0.0.1"], "127.0.0.1", headers)
    assert trusted["client"] == ("6.6.6.6", 5555) and trusted["headers"] == headers


def test_the_throttle_counts_by_the_same_address():
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert UploadRateThrottle().get_ident(request) == "127.0.0.1"
