"""``make run`` and ``make manage ARGS=...`` (``python deploy/dev_run.py [manage ...]``): the
whole system, and management commands, with ``make run``'s settings on a machine whose
environment has none of them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.helpers.images import photo_jpeg
from tests.helpers.processes import free_port, wait_until

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


# make run itself (deploy/dev_run.py's main()), its var/ under the test's tmp_path and its ports free ones
LAUNCH = (
    "import sys; from pathlib import Path; sys.path.insert(0, 'deploy'); import dev_run; "
    "dev_run.VAR = Path(sys.argv[1]); dev_run.MAIN_PORT, dev_run.VM_PORT = int(sys.argv[2]), int(sys.argv[3]); "
    "sys.exit(dev_run.main())"
)
#: What no line of make run's output may carry: a logged warning or error, a Python warning, a traceback.
ALARMING = re.compile(r"\bWARNING\b|\bERROR\b|\bCRITICAL\b|Traceback|Warning:")


def test_make_run_prints_no_warning_or_traceback_through_pages_an_upload_and_ctrl_c(tmp_path):
    """A run as a newcomer makes it: start, the sign-in page with its style sheet and the icon a
    browser asks for, the admin's sign-in, an upload processed and its image fetched, Ctrl-C. The
    worker used to warn "connection refused" at every start (it polled before the main API was up),
    every file streamed under ASGI warned "StreamingHttpResponse must consume synchronous
    iterators", every page's /favicon.ico was a logged 404, and gunicorn warned of each worker
    the terminal's SIGINT reached."""
    main_port, vm_port = free_port(), free_port()
    env = {**clean_env(), "DATABASE_URL": f"sqlite:///{tmp_path / 'main.sqlite3'}",
           "MEDIA_DATABASE_URL": f"sqlite:///{tmp_path / 'media.sqlite3'}",
           "MEDIA_STORAGE_ROOT": str(tmp_path / "media"),
           "TEMP_IMAGES_DIR": str(tmp_path / "temp_images"), "STATIC_ROOT": str(tmp_path / "static")}
    output = tmp_path / "make-run.log"
    url = f"http://127.0.0.1:{main_port}"
    with open(output, "wb") as out:
        # a process group of its own, which the test's Ctrl-C (SIGINT to the group) reaches, as a terminal's would
        launcher = subprocess.Popen([sys.executable, "-c", LAUNCH, str(tmp_path / "var"), str(main_port), str(vm_port)],
                                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, process_group=0)
    try:
        wait_until(lambda: launcher.poll() is not None or "demo token" in output.read_text(errors="replace"),
                   timeout=180, what="make run's banner")
        token = re.search(r"demo token\s+(\w+)", output.read_text()).group(1)

        def answering() -> bool:
            assert launcher.poll() is None, output.read_text(errors="replace")[-3000:]
            try:
                return requests.get(f"{url}/health", timeout=2).ok
            except requests.RequestException:
                return False

        wait_until(answering, timeout=90, what="the main API")
        sign_in = requests.get(f"{url}/login", timeout=10)
        assert sign_in.status_code == 200
        for asset in re.findall(r'href="(/static/[^"]+)"', sign_in.text):
            assert requests.get(f"{url}{asset}", timeout=10).status_code == 200, asset
        icon = requests.get(f"{url}/favicon.ico", timeout=10)
        assert icon.status_code == 200 and icon.headers["Content-Type"].startswith("image/svg+xml")
        assert requests.get(f"{url}/admin/login/", timeout=10).status_code == 200
        auth = {"Authorization": f"Token {token}"}
        photo = photo_jpeg(tmp_path / "photo.jpg", 640, 480)
        with open(photo, "rb") as fh:
            assert requests.patch(f"{url}/users/me", headers=auth, files={"profile_image": fh}, timeout=30).ok

        def processed() -> dict | None:
            upload = requests.get(f"{url}/users/me", headers=auth, timeout=10).json()["pending_images"][0]
            return upload if upload["status"] == "complete" else None

        upload = wait_until(processed, timeout=120, what="the upload processed")
        image = requests.get(upload["smart_url"].replace("size=detail", "size=thumbnail"), timeout=10)
        assert image.status_code == 200 and image.content
        time.sleep(3)  # a poll or two of the worker's after it
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGINT)
        try:
            launcher.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
    text = output.read_text(errors="replace")
    assert launcher.returncode == 0, text[-3000:]
    alarming = [line for line in text.splitlines() if ALARMING.search(line)]
    assert not alarming, "\n".join(alarming)
