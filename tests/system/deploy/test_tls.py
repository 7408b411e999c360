"""Production mode is HTTPS behind nginx: Secure cookies, HSTS, and a deploy check that fails
on warnings. Plain HTTP is allowed only when ``DJANGO_INSECURE_HTTP=1`` says so."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.helpers.api_servers import api_servers

ROOT = Path(__file__).resolve().parents[3]

PASSWORD = "pw-for-tests-only-4d1f"


def set_cookies(response: requests.Response) -> dict[str, str]:
    """Each Set-Cookie header of ``response``, by cookie name (the raw header text)."""
    return {h.split("=", 1)[0]: h for h in response.raw.headers.getlist("Set-Cookie")}


def admin_login(url: str, headers: dict[str, str]) -> tuple[requests.Response, requests.Response]:
    """The login page and the login POST, cookies carried by hand (requests keeps a Secure
    cookie from a plain-HTTP URL to itself, as a browser would)."""
    page = requests.get(f"{url}/admin/login/", headers=headers, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    posted = requests.post(f"{url}/admin/login/", data={"username": "boss", "password": PASSWORD,
                           "csrfmiddlewaretoken": token, "next": "/admin/"},
                           cookies={"csrftoken": page.cookies["csrftoken"]},
                           headers={"Referer": f"{url.replace('http://', 'https://')}/admin/login/", **headers},
                           allow_redirects=False, timeout=10)
    return page, posted


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """A server in production mode (no DJANGO_INSECURE_HTTP), as behind nginx."""
    # nginx on the same host: its X-Forwarded-Proto is believed (FORWARDED_ALLOW_IPS)
    with api_servers(tmp_path_factory.mktemp("tls"), count=1, static=True, DJANGO_INSECURE_HTTP="0",
                     FORWARDED_ALLOW_IPS="127.0.0.1") as servers:
        servers.system.manage("shell", "-c", "from main_api.users.models import User; "
                              f"User.objects.create_superuser('boss', 'boss@example.test', '{PASSWORD}')")
        yield servers.urls[0]


def test_behind_tls_cookies_are_secure_and_hsts_is_sent(production):
    page, posted = admin_login(production, {"X-Forwarded-Proto": "https"})
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "; Secure" in set_cookies(page)["csrftoken"]
    assert posted.status_code == 302 and posted.headers["Location"] == "/admin/"
    session = set_cookies(posted)["sessionid"]
    assert "; Secure" in session and "; HttpOnly" in session
    assert "; Secure" in set_cookies(posted)["csrftoken"]


def test_over_plain_http_cookies_stay_secure_and_no_hsts(production):
    """Production mode reached without TLS (no X-Forwarded-Proto: gunicorn's port, a broken
    proxy): cookies are still Secure, so a browser never sends a session over plain HTTP,
    and HSTS (meaningless over HTTP) is not sent."""
    page = requests.get(f"{production}/admin/login/", timeout=10)
    assert page.status_code == 200
    assert "Strict-Transport-Security" not in page.headers
    assert "; Secure" in set_cookies(page)["csrftoken"]
    # machines on loopback (health checks, a media VM on this host) are not redirected
    assert requests.get(f"{production}/health", allow_redirects=False, timeout=10).status_code == 200


def run_main_api(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    return subprocess.run([sys.executable, "-m", "main_api", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**clean, **env})


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "DJANGO_ALLOWED_HOSTS": "media.example.org",
            "MEDIA_API_KEY": secrets.token_urlsafe(24), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "STATIC_ROOT": str(tmp_path / "static"), **extra}


def test_the_deploy_check_passes_in_production_and_fails_on_plain_http(tmp_path):
    ok = run_main_api("check", "--deploy", "--fail-level", "WARNING", **production_env(tmp_path))
    assert ok.returncode == 0, ok.stderr
    plain = run_main_api("check", "--deploy", "--fail-level", "WARNING",
                         **production_env(tmp_path, DJANGO_INSECURE_HTTP="1"))
    assert plain.returncode != 0
    for warning in ("security.W004", "security.W012", "security.W016"):  # HSTS, session and CSRF cookies
        assert warning in plain.stderr


def test_with_insecure_http_cookies_are_plain_and_no_hsts(tmp_path):
    """DJANGO_INSECURE_HTTP=1 (docker compose on localhost): a client's X-Forwarded-Proto is not trusted."""
    code = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "r = Client().get('/admin/login/', HTTP_X_FORWARDED_PROTO='https')\n"
        "print(r.status_code, r.cookies['csrftoken']['secure'] == '', 'Strict-Transport-Security' in r.headers)\n"
    )
    env = production_env(tmp_path, DJANGO_INSECURE_HTTP="1", DJANGO_SETTINGS_MODULE="main_api.settings",
                         DJANGO_ALLOWED_HOSTS="testserver")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    run_main_api("collectstatic", "--noinput", **env)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**clean, **env})
    assert out.stdout.split() == ["200", "True", "False"], out.stderr[-2000:]


def test_the_systemd_unit_fails_on_deploy_warnings():
    unit = (ROOT / "deploy" / "systemd" / "oaf-main-api.service").read_text()
    assert "ExecStartPre=/srv/oaf/.venv/bin/python -m main_api check --deploy --fail-level WARNING" in unit
    nginx = (ROOT / "deploy" / "nginx" / "main_api.conf").read_text()
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in nginx
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in nginx
