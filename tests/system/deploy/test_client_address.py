"""Who the client is, through the real server (gunicorn, uvicorn workers): ``X-Forwarded-For``
is believed only from ``FORWARDED_ALLOW_IPS`` (empty by default), for the login lockout, the
access log and everything else that asks (``main_api.common.client_address``). The operator's
unlock commands run as an operator runs them, ``python -m main_api axes_reset_*``."""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager

import pytest

from tests.helpers.logins import logged_in, site_login
from tests.helpers.processes import ROOT
from tests.helpers.served_api import ServedAPI, served_main_api

LIMIT = 5
RIGHT = "pw-for-tests-only-77c1"


def manage(api: ServedAPI, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "main_api", *args], cwd=ROOT, env=api.env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def sign_in(api: ServedAPI, username: str, password: str, *, forwarded_for: str | None = None,
            address: str = "127.0.0.1"):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return site_login(api.url, {"username": username, "password": password}, address=address, headers=headers)


@contextmanager
def served(tmp_path_factory, **env: str):
    """The main API served as in production, with ``env`` added to the test's settings."""
    env = {"DJANGO_INSECURE_HTTP": "1", "GUNICORN_ACCESSLOG": "-", "LOGIN_FAILURE_LIMIT": str(LIMIT), **env}
    with served_main_api(tmp_path_factory.mktemp("client-address"), env) as api:
        manage(api, "shell", "-c", "from main_api.users.models import User\n"
               f"for name in ('boss', 'ops'): User.objects.create_user(name, f'{{name}}@example.test', '{RIGHT}')")
        yield api


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """``FORWARDED_ALLOW_IPS`` unset, as by default: no peer's forwarded headers are believed."""
    with served(tmp_path_factory) as api:
        yield api


@pytest.fixture(scope="module")
def proxied_api(tmp_path_factory):
    """``FORWARDED_ALLOW_IPS=127.0.0.1``: nginx on the same host, as in the systemd setup."""
    with served(tmp_path_factory, FORWARDED_ALLOW_IPS="127.0.0.1") as api:
        yield api


def test_a_client_on_loopback_cannot_change_its_address_with_x_forwarded_for(api):
    for i in range(LIMIT):
        sign_in(api, f"guess-{i}", "wrong", forwarded_for=f"203.0.113.{i + 1}")
    # every guess came from 127.0.0.1, whatever the header said: the address is locked
    refused = sign_in(api, "boss", RIGHT, forwarded_for="198.51.100.1")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert logged_in(sign_in(api, "boss", RIGHT, address="127.0.0.2"))
    access = [line for line in api.log.read_text(errors="replace").splitlines() if '"POST /login' in line]
    assert access and all("203.0.113." not in line and "198.51.100." not in line for line in access), access

    manage(api, "axes_reset_ip", "127.0.0.1")
    assert logged_in(sign_in(api, "boss", RIGHT))


def test_the_operator_unlocks_a_username(api):
    for i in range(LIMIT):
        sign_in(api, "ops", f"wrong-{i}", address="127.0.0.3")
    assert sign_in(api, "ops", RIGHT, address="127.0.0.4").status_code == 429, "locked from any address"
    manage(api, "axes_reset_username", "ops")
    assert logged_in(sign_in(api, "ops", RIGHT, address="127.0.0.4"))


def test_behind_a_trusted_proxy_the_address_it_appended_is_the_client(proxied_api):
    api = proxied_api
    # what the client wrote to the left of the proxy's entry changes nothing
    for i in range(LIMIT):
        sign_in(api, f"guess-{i}", "wrong", forwarded_for=f"10.9.9.{i}, 203.0.113.9")
    assert sign_in(api, "boss", RIGHT, forwarded_for="203.0.113.9").status_code == 429
    assert logged_in(sign_in(api, "boss", RIGHT, forwarded_for="203.0.113.10"))
    assert logged_in(sign_in(api, "boss", RIGHT)), "without the header: the peer, 127.0.0.1"
    access = [line for line in api.log.read_text(errors="replace").splitlines() if '"POST /login' in line]
    assert sum("203.0.113.9:" in line for line in access) >= LIMIT, access
    assert not any("10.9.9." in line for line in access)

    manage(api, "axes_reset_ip", "203.0.113.9")
    assert logged_in(sign_in(api, "boss", RIGHT, forwarded_for="203.0.113.9"))
