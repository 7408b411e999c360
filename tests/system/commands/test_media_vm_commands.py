"""``python -m media_vm`` as an operator runs it: real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyvips

from media_vm.db import MIGRATIONS
from tests.helpers import images
from tests.helpers.processes import ROOT


def run(*args, tmp_path, **env):
    full_env = {**os.environ, "MEDIA_DATABASE_URL": f"sqlite:///{tmp_path / 'media.sqlite3'}",
                "MEDIA_STORAGE_ROOT": str(tmp_path / "media"), **env}
    return subprocess.run([sys.executable, "-m", "media_vm", *args], cwd=ROOT, env=full_env, capture_output=True,
                          text=True, timeout=300)


def test_process_runs_the_pipeline_on_local_files(tmp_path):
    photo = images.photo_jpeg(tmp_path / "photo.jpg", 1000, 700)
    bomb = images.pixel_bomb_png(tmp_path / "bomb.png")
    out = tmp_path / "out"
    result = run("process", str(photo), str(bomb), "--out", str(out), tmp_path=tmp_path)
    assert result.returncode == 1, "a rejected file makes the exit code 1"
    assert "limit" in result.stdout + result.stderr
    made = sorted(p.name for p in (out / "photo").iterdir())
    assert len(made) == 18  # six sizes x AVIF, WebP, JPEG
    thumb = pyvips.Image.new_from_file(str(out / "photo" / "photo_thumbnail.avif"))
    assert (thumb.width, thumb.height) == (300, 300)
    assert not (out / "bomb").exists() or not any((out / "bomb").iterdir())


def test_migrate_and_heal_on_an_empty_database(tmp_path):
    result = run("migrate", tmp_path=tmp_path)
    assert result.returncode == 0 and f"schema version {len(MIGRATIONS)}" in result.stdout
    result = run("heal", tmp_path=tmp_path, MAIN_API_URL="http://127.0.0.1:9", MAIN_API_KEY="k")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "stalled": 0, "called_back": 0, "cleaned_up": 0, "report_failed": 0, "retried": 0}


def test_worker_refuses_to_start_without_a_key(tmp_path):
    result = run("worker", "--once", tmp_path=tmp_path, MAIN_API_KEY="")
    assert result.returncode == 2 and "MAIN_API_KEY" in result.stderr
