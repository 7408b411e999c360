"""Signing in as a browser does (the form, its CSRF token, the POST), from a chosen loopback
address: loopback has all of 127.0.0.0/8, so a client bound to 127.0.0.2 reaches a server on
127.0.0.1 from another address."""

from __future__ import annotations

import re

import requests
from requests.adapters import HTTPAdapter


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


def site_login(base: str, form: dict[str, str], *, address: str = "127.0.0.1",
               headers: dict[str, str] | None = None) -> requests.Response:
    """One sign-in on the site's ``/login`` (the password form or the token form) from ``address``."""
    with requests.Session() as s:
        s.mount("http://", FromAddress(address))
        page = s.get(f"{base}/login", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return s.post(f"{base}/login", data={**form, "csrfmiddlewaretoken": token},
                      headers={"Referer": f"{base}/login", **(headers or {})}, allow_redirects=False, timeout=10)


def logged_in(response: requests.Response) -> bool:
    return response.status_code == 302 and response.headers["Location"] in ("/admin/", "/")
