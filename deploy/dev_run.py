"""``make run``: the whole system on one machine, on SQLite and local disk under ``var/``.

Prints the demo site's URL and sign-in first; migrates, makes that demo user (with a
password, for the demo site at ``/``), then starts the main API (:8000), the media VM server
(:3001), one media VM worker and the URL-replacement scheduler; Ctrl-C stops them all.
Secrets for this local run are generated once into ``var/dev-secrets.json``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PY = sys.executable
#: The main API's and the media VM's ports (the tests of make run move them to free ones).
MAIN_PORT = 8000
VM_PORT = 3001


def dev_env() -> dict[str, str]:
    VAR.mkdir(exist_ok=True)
    secrets_file = VAR / "dev-secrets.json"
    if secrets_file.exists():
        values = json.loads(secrets_file.read_text())
    else:
        values = {"secret_key": secrets.token_urlsafe(40), "media_key": secrets.token_urlsafe(32)}
    if "demo_password" not in values:  # added to the secrets of earlier runs too
        values["demo_password"] = secrets.token_urlsafe(9)
        secrets_file.write_text(json.dumps(values))
        secrets_file.chmod(0o600)
    env = dict(os.environ)
    env.setdefault("DJANGO_ENV", "dev")
    env.setdefault("DJANGO_DEBUG", "1")
    env.setdefault("DJANGO_SECRET_KEY", values["secret_key"])
    env.setdefault("MEDIA_API_KEY", values["media_key"])
    env.setdefault("MAIN_API_KEY", env["MEDIA_API_KEY"].split(",")[0])
    env.setdefault("POLL_IDLE_SECONDS", "2")
    env.setdefault("PYTHONUNBUFFERED", "1")
    # the worker polls every 2 s: access lines would bury everything else; the apps log what matters
    env.setdefault("GUNICORN_ACCESSLOG", "")
    env.setdefault("DEMO_PASSWORD", values["demo_password"])
    # a frontend's dev server (Next.js on 3000, Vite on 5173) may call the API with the demo token
    env.setdefault("CORS_ALLOWED_ORIGINS", "http://localhost:3000,http://127.0.0.1:3000,"
                                           "http://localhost:5173,http://127.0.0.1:5173")
    # each service finds the other on its port (the declared defaults name 8000 and 3001)
    env.setdefault("MAIN_API_URL", f"http://127.0.0.1:{MAIN_PORT}")
    env.setdefault("SMART_MEDIA_BASE_URL", f"http://127.0.0.1:{MAIN_PORT}/api/images")
    env.setdefault("MEDIA_BACKEND_URL", f"http://127.0.0.1:{VM_PORT}")
    env.setdefault("MEDIA_VM_PUBLIC_URL", f"http://127.0.0.1:{VM_PORT}")
    return env


def run(args: list[str], env: dict[str, str]) -> str:
    """Run ``python <args>`` with ``env``; its standard output. On failure its output is printed
    (a captured error would otherwise reach a newcomer as a bare exit status) and
    ``CalledProcessError`` raised."""
    out = subprocess.run([PY, *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        print(f"`python {' '.join(args)}` failed (exit status {out.returncode}):", file=sys.stderr)
        print((out.stdout + out.stderr).rstrip(), file=sys.stderr, flush=True)
        raise subprocess.CalledProcessError(out.returncode, [PY, *args], out.stdout, out.stderr)
    return out.stdout


def demo_token(env: dict[str, str]) -> str:
    """The demo user's token; the user is made (or given the password again) with DEMO_PASSWORD."""
    # one argument: a generated password may start with "-", which argparse would take for an option
    args = ["-m", "main_api", "create_user", "demo", "--type", "artist", f"--password={env['DEMO_PASSWORD']}"]
    return run(args, env).strip().splitlines()[-1]


def main_api_wait(proc: subprocess.Popen[bytes], stopped: Callable[[], bool], timeout: float = 120) -> bool:
    """Wait until the main API's ``/health`` answers 200; False if it exited, ``stopped()`` turned
    true or ``timeout`` seconds passed first (the worker is started anyway: it backs off)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None and not stopped():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{MAIN_PORT}/health", timeout=2) as answer:
                if answer.status == 200:
                    return True
        except OSError:  # refused while it starts (URLError and HTTPError are OSErrors)
            pass
        time.sleep(0.3)
    return False


def main() -> int:
    env = dev_env()
    print(f"demo site: http://127.0.0.1:{MAIN_PORT}/  (sign in as demo / {env['DEMO_PASSWORD']}; starting ...)",
          flush=True)
    print("migrating the main API and the media DB ...", flush=True)
    try:
        run(["-m", "main_api", "migrate", "--noinput"], env)
        run(["-m", "main_api", "collectstatic", "--noinput"], env)
        run(["-m", "media_vm", "migrate"], env)
        token = demo_token(env)
    except subprocess.CalledProcessError:
        return 1  # what failed, and why, is printed above
    procs = {
        "main-api": [PY, "-m", "main_api", "serve", "--port", str(MAIN_PORT)],
        "media-vm": [PY, "-m", "media_vm", "serve", "--port", str(VM_PORT)],
        "worker": [PY, "-m", "media_vm", "worker"],
        "scheduler": [PY, "-m", "main_api", "run_scheduler"],
    }
    # the main API's two gunicorn workers count requests in one folder that /metrics sums (emptied
    # at the server's start); only its processes write there
    own_env = {"main-api": {**env, "PROMETHEUS_MULTIPROC_DIR": env.get("PROMETHEUS_MULTIPROC_DIR")
                            or str(VAR / "prometheus")}}
    running: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str) -> None:
        # a process group of its own: Ctrl-C reaches this launcher alone, which stops each process
        # with SIGTERM (a gunicorn whose workers got the terminal's SIGINT warns about each)
        running[name] = subprocess.Popen(procs[name], env=own_env.get(name, env), cwd=ROOT, process_group=0)

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    for name in ("main-api", "media-vm", "scheduler"):
        start(name)
    print(f"""
  demo site     http://127.0.0.1:{MAIN_PORT}/     sign in as demo / {env["DEMO_PASSWORD"]}
  main API      http://127.0.0.1:{MAIN_PORT}/users/me     (admin: http://127.0.0.1:{MAIN_PORT}/admin/)
  media VM      http://127.0.0.1:{VM_PORT}/health       (its detail and /metrics need the media key,
                "media_key" in var/dev-secrets.json: -H "Authorization: Bearer <key>")
  demo token    {token}

  try:  curl -X PATCH -H 'Authorization: Token {token}' -F profile_image=@photo.jpg http://127.0.0.1:{MAIN_PORT}/users/me
        curl -H 'Authorization: Token {token}' http://127.0.0.1:{MAIN_PORT}/users/me
  Ctrl-C stops everything.
""", flush=True)
    try:
        # the worker polls the main API at once: started before it answers, it would begin each run
        # with "connection refused" warnings
        main_api_wait(running["main-api"], lambda: stopping)
        if not stopping:
            start("worker")
        while not stopping:
            for name, proc in running.items():
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping the rest", flush=True)
                    stopping = True
            time.sleep(0.5)
    finally:
        for proc in running.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in running.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


def manage(args: list[str]) -> int:
    """``python deploy/dev_run.py manage <command> ...`` (``make manage ARGS=...``): a main API
    management command with ``make run``'s settings (dev mode, its secrets, its database)."""
    return subprocess.run([PY, "-m", "main_api", *args], env=dev_env(), cwd=ROOT).returncode


if __name__ == "__main__":
    if sys.argv[1:2] == ["manage"]:
        sys.exit(manage(sys.argv[2:]))
    sys.exit(main())
