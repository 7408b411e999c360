"""``python -m main_api serve`` as an operator runs it: a real process under gunicorn."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import requests

from tests.helpers.images import decoded_size, image_bytes
from tests.helpers.processes import ROOT, free_port, stop


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
