"""The admin login and the site's ``/login`` lock out a username, and separately an address,
after repeated failures; a sign-in to one's own account clears nothing of anyone else's.

Real HTTP against the live server; the other addresses are real too: loopback has all of
127.0.0.0/8, so a client bound to 127.0.0.2 reaches the server from another address.
"""

from __future__ import annotations

import pytest
import requests
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from main_api.users.models import User
from tests.helpers.logins import logged_in, login, site_login

LIMIT = 5
RIGHT = "the-right-passphrase"


@pytest.fixture
def base(live_server, transactional_db, settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    User.objects.create_superuser("boss", "boss@example.test", RIGHT)
    User.objects.create_superuser("ops", "ops@example.test", RIGHT)
    User.objects.create_user("mallory", "mallory@example.test", RIGHT)
    return live_server.url


def own_sign_in(base: str, how: str, address: str) -> requests.Response:
    """Mallory signs in to her own account on ``/login``, with her password or her token."""
    if how == "password":
        return site_login(base, {"username": "mallory", "password": RIGHT}, address=address)
    key = Token.objects.get_or_create(user=User.objects.get(username="mallory"))[0].key
    return site_login(base, {"token": key}, address=address)


@pytest.mark.parametrize("guess_on", ["admin", "site"])
@pytest.mark.parametrize("how", ["password", "token"])
def test_signing_in_to_ones_own_account_never_clears_the_guesses_at_anothers(base, guess_on, how):
    """Four wrong passwords for boss, then a sign-in of one's own, over and over: the fifth
    round's guesses lock boss (from anywhere) and the address (for anyone)."""
    address = "127.0.0.6"
    for round_ in range(3):
        for i in range(LIMIT - 1):
            if guess_on == "admin":
                login(base, "boss", f"guess-{round_}-{i}", address=address)
            else:
                site_login(base, {"username": "boss", "password": f"guess-{round_}-{i}"}, address=address)
        if round_ < 1:
            assert logged_in(own_sign_in(base, how, address)), "her own sign-in works before the limit"
        else:
            # the failures against boss kept counting: the address is locked, her right password included
            refused = own_sign_in(base, how, address)
            assert refused.status_code == 429 and "Retry-After" in refused.headers
    # boss is locked from any address, with the right password
    assert login(base, "boss", RIGHT, address="127.0.0.7").status_code == 429
    assert site_login(base, {"username": "boss", "password": RIGHT}, address="127.0.0.7").status_code == 429


def test_wrong_tokens_count_as_failures_of_the_address(base):
    for i in range(LIMIT):
        answer = site_login(base, {"token": f"{i:040x}"}, address="127.0.0.8")
        assert answer.status_code == (400 if i < LIMIT - 1 else 429), "the form again, then locked out"
    refused = site_login(base, {"username": "ops", "password": RIGHT}, address="127.0.0.8")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 15 * 60
    assert logged_in(site_login(base, {"username": "ops", "password": RIGHT}, address="127.0.0.9"))


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
