"""``make manage ARGS=...`` (``python deploy/dev_run.py manage ...``): management commands with
``make run``'s settings, on a machine whose environment has none of them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
UNSET = ("DJANGO_SECRET_KEY", "DJANGO_ENV", "DJANGO_DEBUG", "DATABASE_URL", "MEDIA_API_KEY", "MAIN_API_KEY")

# deploy/dev_run.py's manage(), its var/ (secrets, SQLite) moved under the test's tmp_path
RUN_DEV_RUN = (
    "import sys; from pathlib import Path; sys.path.insert(0, 'deploy'); import dev_run; "
    "dev_run.VAR = Path(sys.argv[1]); sys.exit(dev_run.manage(sys.argv[2:]))"
)


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env["DJANGO_SETTINGS_MODULE"] = "main_api.settings"
    return env


def test_dev_run_manage_runs_check_with_make_runs_settings(tmp_path):
    done = subprocess.run([sys.executable, "-c", RUN_DEV_RUN, str(tmp_path / "var"), "check"], cwd=ROOT,
                          env=clean_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout
    assert "Traceback" not in done.stderr
    assert (tmp_path / "var" / "dev-secrets.json").is_file()  # the same secrets make run uses


def test_without_those_settings_a_command_ends_in_one_line_naming_the_fix():
    done = subprocess.run([sys.executable, "-m", "main_api", "createsuperuser", "--noinput"], cwd=ROOT,
                          env=clean_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "DJANGO_SECRET_KEY is not set" in done.stderr and "make manage" in done.stderr


def test_the_makefile_has_the_manage_target():
    makefile = (ROOT / "Makefile").read_text()
    assert "\nmanage: install" in makefile
    assert "$(BIN)/python deploy/dev_run.py manage $(ARGS)" in makefile


# make run's demo user, on a database under the test's tmp_path: made twice (a second make run)
DEMO_USER = (
    "import sys; from pathlib import Path; sys.path.insert(0, 'deploy'); import dev_run; "
    "dev_run.VAR = Path(sys.argv[1]); env = dev_run.dev_env(); "
    "dev_run.run(['-m', 'main_api', 'migrate', '--noinput'], env); "
    "print(dev_run.demo_token(env)); print(dev_run.demo_token(env)); print(env['DEMO_PASSWORD'])"
)
CHECK_PASSWORD = (
    "from main_api.users.models import User; import sys; "
    "print(User.objects.get(username='demo').check_password(sys.argv[1]))"
)


@pytest.mark.parametrize("given", [None, "-h-and-a-dash-first"], ids=["generated", "dash-first"])
def test_make_runs_demo_user_signs_in_with_the_printed_password(tmp_path, given):
    """The generated password is URL-safe base64: one in 64 starts with "-" (CI met one, which
    create_user's argparse took for an option)."""
    env = {**clean_env(), "DATABASE_URL": f"sqlite:///{tmp_path / 'main.sqlite3'}"}
    if given is not None:
        env["DEMO_PASSWORD"] = given
    done = subprocess.run([sys.executable, "-c", DEMO_USER, str(tmp_path / "var")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    first_token, second_token, password = done.stdout.split()[-3:]
    assert first_token == second_token and len(password) >= 12 and password == (given or password)
    checked = subprocess.run([sys.executable, "-c", RUN_DEV_RUN, str(tmp_path / "var"), "shell", "-c",
                              CHECK_PASSWORD.replace("sys.argv[1]", repr(password))], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert checked.stdout.strip().splitlines()[-1] == "True", checked.stderr


def test_a_failing_step_of_make_run_prints_why(tmp_path):
    """A step's captured output is shown when it fails, not only its exit status."""
    script = ("import sys; sys.path.insert(0, 'deploy'); import dev_run; "
              "dev_run.run(['-c', 'import sys; print(\"the reason\", file=sys.stderr); sys.exit(3)'], {})")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=clean_env(), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert "failed (exit status 3):" in done.stderr and "the reason" in done.stderr
