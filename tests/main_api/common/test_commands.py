"""``python -m main_api ...``: create_user, serve under gunicorn, collectstatic."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from main_api import __main__ as cli
from main_api.users.models import ArtistProfile, PromoterProfile, User, UserProfile
from tests.helpers.images import decoded_size, image_bytes
from tests.helpers.processes import free_port, stop

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("user_type", "profile_model"), [("artist", ArtistProfile), ("promoter", PromoterProfile)])
def test_create_user_makes_the_profile_rows_and_prints_the_token_last(user_type, profile_model, db):
    out = StringIO()
    call_command("create_user", "nina", "--type", user_type, stdout=out)
    user = User.objects.get(username="nina")
    assert user.user_type == user_type
    assert UserProfile.objects.filter(user=user).exists() and profile_model.objects.filter(user=user).exists()
    assert out.getvalue().strip().splitlines()[-1] == Token.objects.get(user=user).key
    assert not user.has_usable_password()


def test_create_user_again_prints_the_same_token_and_refuses_another_type(db):
    first, second = StringIO(), StringIO()
    call_command("create_user", "demo", "--type", "community", "--password", "a-long-passphrase", stdout=first)
    call_command("create_user", "demo", "--type", "community", stdout=second)
    assert first.getvalue().splitlines()[-1] == second.getvalue().splitlines()[-1]
    assert User.objects.get(username="demo").check_password("a-long-passphrase")
    assert not ArtistProfile.objects.exists() and not PromoterProfile.objects.exists()
    with pytest.raises(CommandError, match="exists with type community"):
        call_command("create_user", "demo", "--type", "artist", stdout=StringIO())
    with pytest.raises(CommandError, match="cannot create user"):
        call_command("create_user", "bad name!", stdout=StringIO())


def test_serve_uses_the_deploy_config_when_there_is_one(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "GUNICORN_CONFIG", tmp_path / "missing.py")
    argv = cli.gunicorn_argv([])
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8000" and argv[-1] == "main_api.asgi:application"
    assert "--config" not in argv

    config = tmp_path / "gunicorn.py"
    config.write_text("workers = 3\n")
    monkeypatch.setattr(cli, "GUNICORN_CONFIG", config)
    argv = cli.gunicorn_argv([])
    assert argv[argv.index("--config") + 1] == str(config) and "--bind" not in argv
    argv = cli.gunicorn_argv(["--port", "9123"])
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:9123"



def test_serve_runs_the_api_under_gunicorn(tmp_path):
    """A real process: migrate, create a user, serve, upload over HTTP, fetch it back."""
    env = {
        **os.environ,
        "DJANGO_ENV": "dev",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'api.sqlite3'}",
        "TEMP_IMAGES_DIR": str(tmp_path / "temp_images"),
        "MEDIA_API_KEY": "served-key",
        "GUNICORN_WORKERS": "1",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    env.pop("DJANGO_DEBUG", None)

    def manage(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "main_api", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput")  # production storage: hashed, compressed
    token = manage("create_user", "served", "--type", "artist").strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "main_api", "serve", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.get(f"{base}/users/me", timeout=2)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not come up"
                time.sleep(0.2)
        assert response.status_code == 401 and set(response.json()) == {"message", "extra"}

        auth = {"Authorization": f"Token {token}"}
        data = image_bytes("JPEG", (77, 55))
        response = requests.patch(f"{base}/users/me", headers=auth,
                                  files={"profile_image": ("me.jpg", data, "image/jpeg")}, timeout=10)
        assert response.status_code == 200, response.text
        path = response.json()["profile_image_path"]

        fetched = requests.get(f"{base}{path}", headers={"Authorization": "Bearer served-key"}, timeout=10)
        assert fetched.status_code == 200 and decoded_size(fetched.content) == (77, 55)
        assert requests.get(f"{base}{path}", timeout=10).status_code == 404

        pending = requests.get(f"{base}/api/media/pending/all", headers={"Authorization": "Bearer served-key"},
                               timeout=10).json()
        assert [img["image_path"] for img in pending["images"]] == [path]
        css = requests.get(f"{base}/static/admin/css/base.css", timeout=10)  # whitenoise, for the admin
        assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    finally:
        stop(server, timeout=20)


def test_collectstatic_gathers_the_admin_files(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--noinput", verbosity=0)
    assert (tmp_path / "static" / "admin" / "css" / "base.css").is_file()
