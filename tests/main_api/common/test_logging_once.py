"""A Django request warning is logged once, in our format, in dev (DEBUG on: Django's own
console handler is active) and in production; schema generation logs no error or warning."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

REQUEST = (
    "import django; django.setup(); from django.test import Client; "
    "print(Client(HTTP_HOST='127.0.0.1').get('/users/me').status_code)"
)


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LOG_"))}
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**clean, "DJANGO_SETTINGS_MODULE": "main_api.settings", **env})


@pytest.mark.parametrize("env", [
    {"DJANGO_ENV": "dev", "DJANGO_DEBUG": "1"},
    {"DJANGO_SECRET_KEY": "s" * 40, "LOG_FORMAT": "json"},
], ids=["dev", "production-json"])
def test_a_request_warning_is_logged_once(env, tmp_path):
    done = run(["-c", REQUEST], DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", **env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "401"
    assert done.stderr.count("Unauthorized: /users/me") == 1, done.stderr


def test_schema_generation_logs_no_error_or_warning(tmp_path):
    done = run(["-m", "main_api", "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml")],
               DJANGO_ENV="dev", MEDIA_API_KEY="k" * 32)
    assert done.returncode == 0, done.stderr
    assert "Error" not in done.stderr and "Warning" not in done.stderr, done.stderr
    assert "SimilarImages" in (tmp_path / "s.yaml").read_text()
