"""The media VM's settings (media_vm/config.py, declared in media_vm/declarations.py): a bad
value names the variable and the value, ``python -m media_vm settings`` says where each came from."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from media_vm.config import Settings
from media_vm.declarations import MEDIA_VM
from shared.config import SettingError
from tests.helpers.processes import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_a_bad_value_names_the_variable_and_the_value():
    # every kind of bad value: tests/shared/test_config.py; here through Settings, as the worker reads them
    with pytest.raises(SettingError, match=r"^POLL_IDLE_SECONDS must be a number, got 'soon'$"):
        Settings.from_env({"POLL_IDLE_SECONDS": "soon"})


def test_the_flat_attributes_stay_and_hold_what_the_environment_says():
    names = {f.name for f in dataclasses.fields(Settings)}
    assert {s.attr for s in MEDIA_VM if s.attr} <= names
    settings = Settings.from_env({"POLL_IDLE_SECONDS": "2.5", "REDIS_URL": "redis://r:6379/0", "HEARTBEAT_SECONDS": "3",
                                  "MAIN_API_KEY": "new, old", "TESSERACT_CMD": ""})
    assert (settings.poll_idle_seconds, settings.heartbeat_seconds) == (2.5, 3.0)
    assert settings.redis_url == "redis://r:6379/0"
    assert (settings.main_api_key, settings.accepted_keys) == ("new", ("new", "old"))
    assert settings.tesseract_cmd == ""  # set empty: OCR off, not the default
    assert Settings.from_env({}).tesseract_cmd == "tesseract"
    assert dataclasses.replace(Settings(), heal_batch=3).heal_batch == 3  # made in code, as the tests do


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIA_", "MAIN_API_", "POLL_"))}
    return subprocess.run([sys.executable, "-m", "media_vm", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_the_settings_command_prints_each_value_and_its_source_with_secrets_masked():
    done = run("settings", MAIN_API_KEY="do-not-print-me", OPENAI_API_KEY="sk-secret", POLL_IDLE_SECONDS="2",
               MEDIA_DATABASE_URL="mysql://vm:hunter2@db.example.test/oaf_media")
    assert done.returncode == 0, done.stderr
    for secret in ("do-not-print-me", "sk-secret", "hunter2"):
        assert secret not in done.stdout
    lines = {line.split("=", 1)[0]: line for line in done.stdout.splitlines() if "=" in line}
    assert lines["POLL_IDLE_SECONDS"].split() == ["POLL_IDLE_SECONDS=", "2", "(environment)"]
    assert lines["HEARTBEAT_SECONDS"].split() == ["HEARTBEAT_SECONDS=", "5", "(default)"]
    assert "********" in lines["MAIN_API_KEY"] and "********" in lines["OPENAI_API_KEY"]
    assert "mysql://vm:********@db.example.test/oaf_media" in lines["MEDIA_DATABASE_URL"]
    assert "(default: host name-pid)" in lines["WORKER_ID"]
    for group in ("# the worker", "# the server (python -m media_vm serve)", "# analysis and its providers"):
        assert group in done.stdout.splitlines()


def test_a_command_refuses_to_start_on_a_bad_value_with_one_line(tmp_path):
    done = run("migrate", MEDIA_DATABASE_URL=f"sqlite:///{tmp_path / 'm.sqlite3'}", LEASE_SECONDS="5 minutes")
    assert done.returncode == 1
    assert done.stderr.strip() == "python -m media_vm: LEASE_SECONDS must be an integer, got '5 minutes'"


# python -m media_vm with make run's secrets file moved under the test's tmp_path
RUN_WITH_DEV_SECRETS = (
    "import sys; from pathlib import Path; import media_vm.config as c; c.DEV_SECRETS = Path(sys.argv[1]); "
    "from media_vm.__main__ import main; sys.exit(main(sys.argv[2:]))"
)


def run_with_dev_secrets(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``python -m media_vm ARGS`` in a checkout where ``make run`` has written its secrets (``media_key``
    "the-dev-key"), on a media DB under ``tmp_path``, with nothing else of the VM's settings."""
    secrets_file = tmp_path / "dev-secrets.json"
    secrets_file.write_text('{"secret_key": "s", "media_key": "the-dev-key", "demo_password": "p"}')
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIA_", "MAIN_API_", "POLL_", "DJANGO_ENV"))}
    env = {**clean, "MEDIA_DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}",
           "MEDIA_STORAGE_ROOT": str(tmp_path / "media"), "MAIN_API_URL": f"http://127.0.0.1:{free_port()}", **env}
    return subprocess.run([sys.executable, "-c", RUN_WITH_DEV_SECRETS, str(secrets_file), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [["worker", "--once"], ["heal"]], ids=["worker", "heal"])
def test_in_dev_mode_the_vms_commands_take_make_runs_media_key(tmp_path, command, monkeypatch):
    """``DJANGO_ENV=dev`` (as make run sets): the key is make run's, so the worker and the healer go
    on to call the main API (nothing answers at MAIN_API_URL here) instead of stopping for want of a key."""
    done = run_with_dev_secrets(tmp_path, *command, DJANGO_ENV="dev")
    assert "MAIN_API_KEY is not set" not in done.stderr, done.stderr
    assert "could not be polled" in done.stderr or command == ["heal"], done.stderr
    import media_vm.config as config

    monkeypatch.setattr(config, "DEV_SECRETS", tmp_path / "dev-secrets.json")
    assert Settings.from_env({"DJANGO_ENV": "dev"}).main_api_key == "the-dev-key"
    assert Settings.from_env({"DJANGO_ENV": "dev", "MAIN_API_KEY": "mine"}).main_api_key == "mine"  # set wins
    assert Settings.from_env({}).main_api_key == ""  # production


@pytest.mark.parametrize("command", [["worker", "--once"], ["heal"]], ids=["worker", "heal"])
def test_a_production_vm_never_reads_make_runs_secrets(tmp_path, command):
    done = run_with_dev_secrets(tmp_path, *command)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("MAIN_API_KEY is not set"), done.stderr
    assert "DJANGO_ENV=dev" in done.stderr and "Traceback" not in done.stderr
