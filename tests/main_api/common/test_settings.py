"""Settings read from the environment, checked in fresh interpreters (settings load once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PRINT_SETTINGS = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "debug": settings.DEBUG,
    "engine": db["ENGINE"],
    "name": db["NAME"],
    "options": db.get("OPTIONS", {}),
    "test": db.get("TEST", {}),
    "keys": settings.MEDIA_API_KEYS,
    "max_upload": settings.MAX_UPLOAD_BYTES,
    "temp_dir": str(settings.TEMP_IMAGES_DIR),
    "smart": settings.SMART_MEDIA_BASE_URL,
    "hosts": settings.ALLOWED_HOSTS,
    "renderers": settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"],
}))
"""
CLEARED = (
    "DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_ENV", "DATABASE_URL", "MEDIA_API_KEY", "MAX_UPLOAD_BYTES",
    "TEMP_IMAGES_DIR", "SMART_MEDIA_BASE_URL", "DJANGO_ALLOWED_HOSTS",
)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in CLEARED}
    clean["DJANGO_SETTINGS_MODULE"] = "main_api.settings"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def settings_with(**env: str) -> dict:
    result = run_python(PRINT_SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_without_a_secret_key_refuses_to_start():
    result = run_python(PRINT_SETTINGS)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("env", [{"DJANGO_ENV": "dev"}, {"DJANGO_DEBUG": "1"}, {"DJANGO_SECRET_KEY": "s3cret"}])
def test_a_dev_flag_or_a_key_lets_it_start(env):
    settings = settings_with(**env)
    assert settings["debug"] is (env.get("DJANGO_DEBUG") == "1")


def test_defaults_are_production_safe_and_paths_absolute():
    settings = settings_with(DJANGO_SECRET_KEY="s3cret")
    assert settings["debug"] is False
    assert settings["renderers"] == ["rest_framework.renderers.JSONRenderer"]
    assert settings["engine"] == "django.db.backends.sqlite3"
    assert settings["name"] == str(ROOT / "var" / "main_api.sqlite3")
    assert settings["temp_dir"] == str(ROOT / "var" / "temp_images")
    assert settings["max_upload"] == 5 * 1024 * 1024
    assert settings["keys"] == []
    assert settings["smart"] == "http://127.0.0.1:8000/api/images"
    assert "testserver" not in settings["hosts"]


def test_the_environment_is_read(tmp_path):
    settings = settings_with(
        DJANGO_ENV="dev",
        DATABASE_URL="mysql://app:pw@db.example.test:3307/oaf",
        MEDIA_API_KEY=" new-key , old-key ,",
        MAX_UPLOAD_BYTES="1000",
        TEMP_IMAGES_DIR=str(tmp_path / "uploads"),
        SMART_MEDIA_BASE_URL="https://img.example.test/api/images/",
        DJANGO_ALLOWED_HOSTS="api.example.test",
    )
    assert settings["engine"] == "django.db.backends.mysql" and settings["name"] == "oaf"
    assert settings["options"]["charset"] == "utf8mb4"
    assert settings["test"]["CHARSET"] == "utf8mb4"
    assert settings["keys"] == ["new-key", "old-key"]
    assert settings["max_upload"] == 1000
    assert settings["temp_dir"] == str(tmp_path / "uploads")
    assert settings["smart"] == "https://img.example.test/api/images"
    assert settings["hosts"] == ["api.example.test"]


def test_an_absolute_sqlite_path_is_kept_and_its_folder_made(tmp_path):
    settings = settings_with(DJANGO_ENV="dev", DATABASE_URL=f"sqlite:///{tmp_path}/x/db.sqlite3")
    assert settings["name"] == f"{tmp_path}/x/db.sqlite3" and (tmp_path / "x").is_dir()


def test_a_bad_number_is_a_clear_error():
    result = run_python(PRINT_SETTINGS, DJANGO_ENV="dev", MAX_UPLOAD_BYTES="5MB")
    assert result.returncode != 0 and "MAX_UPLOAD_BYTES must be an integer" in result.stderr


def test_a_bad_value_ends_the_start_with_one_line_naming_the_variable_and_the_value():
    # every kind of bad value, each setting: tests/shared/test_config.py; here the way out of a start
    result = run_python(PRINT_SETTINGS, DJANGO_ENV="dev", UPLOAD_EVENTS_POLL_SECONDS="fast")
    assert result.returncode == 1
    assert result.stderr.strip() == "ImproperlyConfigured: UPLOAD_EVENTS_POLL_SECONDS must be a number, got 'fast'"


def run_settings_command(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in CLEARED and k not in env}
    return subprocess.run([sys.executable, "-m", "main_api", "settings"], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


def test_the_settings_command_prints_each_value_and_its_source_with_secrets_masked():
    result = run_settings_command(DJANGO_SECRET_KEY="do-not-print-me", MEDIA_API_KEY="key-one,key-two",
                                  DATABASE_URL="mysql://app:hunter2@db.example.test/oaf", MAX_UPLOAD_BYTES="1000")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for secret in ("do-not-print-me", "key-one", "key-two", "hunter2"):
        assert secret not in out
    lines = {line.split("=", 1)[0]: line for line in out.splitlines() if "=" in line and not line.startswith("#")}
    assert "********" in lines["DJANGO_SECRET_KEY"] and lines["DJANGO_SECRET_KEY"].endswith("(environment)")
    assert "mysql://app:********@db.example.test/oaf" in lines["DATABASE_URL"]
    assert lines["MAX_UPLOAD_BYTES"].split() == ["MAX_UPLOAD_BYTES=", "1000", "(environment)"]
    assert lines["ARTWORK_LIMIT"].split() == ["ARTWORK_LIMIT=", "100", "(default)"]
    assert "# uploads" in out.splitlines()  # grouped as declared


def test_the_settings_command_works_where_the_settings_refuse_to_load():
    result = run_settings_command(MAX_UPLOAD_BYTES="5MB")  # production without a key, and a bad number
    assert result.returncode == 0, result.stderr
    assert "invalid: MAX_UPLOAD_BYTES must be an integer, got '5MB'" in result.stdout


PRINT_CORS = "from django.conf import settings; print(repr(settings.CORS_ALLOWED_ORIGINS))"
#: make run's environment (``deploy/dev_run.py``), its secrets under a folder of the test's own
DEV_RUN_ENV = ("import sys; from pathlib import Path; sys.path.insert(0, 'deploy'); import dev_run; "
               "dev_run.VAR = Path(sys.argv[1]); print(dev_run.dev_env()['CORS_ALLOWED_ORIGINS'])")


def test_cors_origins_are_none_in_production_and_the_dev_servers_under_make_run(tmp_path):
    """Issue 26, 1: no origin but the API's own by default; make run lets a Next.js (3000) or
    Vite (5173) dev server on localhost or 127.0.0.1 call it."""
    production = run_python(PRINT_CORS, DJANGO_SECRET_KEY="s3cret")
    assert production.returncode == 0, production.stderr
    assert production.stdout.strip() == "[]"
    clean = {k: v for k, v in os.environ.items() if k not in CLEARED and k != "CORS_ALLOWED_ORIGINS"}
    dev = subprocess.run([sys.executable, "-c", DEV_RUN_ENV, str(tmp_path)], cwd=ROOT, env=clean,
                         capture_output=True, text=True, timeout=60)
    assert dev.returncode == 0, dev.stderr
    origins = dev.stdout.strip()
    assert sorted(origins.split(",")) == sorted(
        f"http://{host}:{port}" for host in ("localhost", "127.0.0.1") for port in (3000, 5173))
    assert run_python(PRINT_CORS, DJANGO_ENV="dev", CORS_ALLOWED_ORIGINS=origins).stdout.strip() == repr(
        origins.split(","))


@pytest.mark.parametrize("value", ["*", "https://app.example.org/", "https://app.example.org/path",
                                   "app.example.org", "ftp://app.example.org"])
def test_a_cors_origin_that_is_not_an_exact_origin_ends_the_start_naming_it(value):
    result = run_python(PRINT_CORS, DJANGO_ENV="dev", CORS_ALLOWED_ORIGINS=f"http://localhost:3000,{value}")
    assert result.returncode == 1
    assert result.stderr.strip().startswith(f"ImproperlyConfigured: CORS_ALLOWED_ORIGINS {value!r} is not an origin")
