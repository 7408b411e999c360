"""``python -m main_api ...`` in the test process: create_user, serve's gunicorn arguments,
collectstatic (serving under gunicorn as a real process: tests/system/commands/test_main_api_serve.py)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from main_api import __main__ as cli
from main_api.users.models import ArtistProfile, PromoterProfile, User, UserProfile

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



def test_collectstatic_gathers_the_admin_files(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--noinput", verbosity=0)
    assert (tmp_path / "static" / "admin" / "css" / "base.css").is_file()
