"""The admin login locks out a username, and separately an address, after repeated failures.

Real HTTP against the live server; the other addresses are real too: loopback has all of
127.0.0.0/8, so a client bound to 127.0.0.2 reaches the server from another address.
"""

from __future__ import annotations

import re

import pytest
import requests
from django.core.management import call_command
from requests.adapters import HTTPAdapter

from main_api.users.models import User

LIMIT = 5
RIGHT = "the-right-passphrase"


class FromAddress(HTTPAdapter):
    """Connections from a chosen local address."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def login(base: str, username: str, password: str, *, address: str = "127.0.0.1",
          headers: dict[str, str] | None = None) -> requests.Response:
    """One admin login as a browser does it (the form, its CSRF token, the POST), from ``address``."""
    with requests.Session() as s:
        s.mount("http://", FromAddress(address))
        page = s.get(f"{base}/admin/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return s.post(f"{base}/admin/login/", data={"username": username, "password": password,
                      "csrfmiddlewaretoken": token, "next": "/admin/"},
                      headers={"Referer": f"{base}/admin/login/", **(headers or {})}, allow_redirects=False,
                      timeout=10)


def logged_in(response: requests.Response) -> bool:
    return response.status_code == 302 and response.headers["Location"] == "/admin/"


@pytest.fixture
def base(live_server, transactional_db, settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    User.objects.create_superuser("boss", "boss@example.test", RIGHT)
    User.objects.create_superuser("ops", "ops@example.test", RIGHT)
    return live_server.url


def test_forty_wrong_passwords_then_the_right_one_is_refused(base):
    answers = [login(base, "boss", f"wrong-{i}").status_code for i in range(40)]
    assert answers[:LIMIT - 1] == [200] * (LIMIT - 1), "the form again, with its error"
    assert set(answers[LIMIT:]) == {429}
    refused = login(base, "boss", RIGHT)
    assert refused.status_code == 429 and not logged_in(refused)
    assert int(refused.headers["Retry-After"]) == 15 * 60
    assert "sessionid" not in refused.cookies

    # per username: the right password from another address is refused too
    assert login(base, "boss", RIGHT, address="127.0.0.2").status_code == 429
    # per address: another user from this address is refused, from another one let in
    assert login(base, "ops", RIGHT).status_code == 429
    assert logged_in(login(base, "ops", RIGHT, address="127.0.0.3"))
    # a client that asks for JSON gets the API's error shape
    answer = login(base, "boss", RIGHT, headers={"Accept": "application/json"})
    assert answer.status_code == 429
    assert answer.json() == {"message": answer.json()["message"], "extra": {"retry_after": 900}}


def test_an_address_spraying_usernames_is_locked_out(base):
    for i in range(LIMIT):
        login(base, f"guess-{i}", "wrong", address="127.0.0.4")
    assert login(base, "ops", RIGHT, address="127.0.0.4").status_code == 429
    assert logged_in(login(base, "ops", RIGHT, address="127.0.0.5"))


def test_the_reset_commands_unlock(base):
    for i in range(LIMIT):
        login(base, "boss", f"wrong-{i}", address="127.0.0.2")
    assert login(base, "boss", RIGHT, address="127.0.0.3").status_code == 429
    call_command("axes_reset_username", "boss")
    assert logged_in(login(base, "boss", RIGHT, address="127.0.0.3"))

    for i in range(LIMIT):
        login(base, f"guess-{i}", "wrong", address="127.0.0.4")
    assert login(base, "ops", RIGHT, address="127.0.0.4").status_code == 429
    call_command("axes_reset_ip", "127.0.0.4")
    assert logged_in(login(base, "ops", RIGHT, address="127.0.0.4"))


def test_a_right_password_clears_earlier_failures(base):
    for i in range(LIMIT - 1):
        login(base, "boss", f"typo-{i}")
    assert logged_in(login(base, "boss", RIGHT))
    for i in range(LIMIT - 1):
        login(base, "boss", f"typo-again-{i}")
    assert logged_in(login(base, "boss", RIGHT)), "failures before a success do not add up"
