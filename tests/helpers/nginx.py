"""Debian's nginx (``/usr/sbin/nginx``) with the shipped ``deploy/nginx/main_api.conf``, run
unprivileged in front of a live system: its own prefix, temp and cache folders, free ports,
a self-signed certificate. Only addresses and paths of the shipped file are changed."""

from __future__ import annotations

import contextlib
import getpass
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.helpers.processes import ROOT, free_port, stop, wait_until

NGINX = Path("/usr/sbin/nginx")
SHIPPED = ROOT / "deploy" / "nginx" / "main_api.conf"


def require_nginx() -> Path:
    """The nginx binary; skipped outside CI when it is missing, a failure under CI (which
    installs ``nginx``, as ``make test`` does)."""
    if not NGINX.exists():
        reason = f"{NGINX} not installed (apt-get install nginx; make test does it)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, and CI is set: CI installs it", pytrace=False)
        pytest.skip(reason)
    return NGINX


@dataclass
class Nginx:
    url: str  # https://127.0.0.1:<port>, the shipped TLS server
    prefix: Path
    cache: Path
    logs: Path

    def get(self, path: str, **kwargs) -> requests.Response:  # noqa: ANN003 - requests' keywords
        return requests.get(f"{self.url}{path}", verify=False, timeout=30, **kwargs)  # noqa: S501 - self-signed

    def log_text(self) -> str:
        """Every log nginx wrote (access and error), as one text."""
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*")) if p.is_file())


def shipped_config(*, api_port: int, http_port: int, https_port: int, prefix: Path, static_root: Path) -> str:
    """``deploy/nginx/main_api.conf`` with its upstream, ports and paths pointed into ``prefix``."""
    text = SHIPPED.read_text()
    replacements = {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{api_port};",
        "/var/cache/nginx/oaf_images": str(prefix / "cache"),
        "/var/log/nginx/": f"{prefix / 'logs'}/",
        "/var/www/letsencrypt": str(prefix / "acme"),
        "/var/lib/oaf/static/": f"{static_root}/",
        "/etc/letsencrypt/live/media.example.org/fullchain.pem": str(prefix / "cert.pem"),
        "/etc/letsencrypt/live/media.example.org/privkey.pem": str(prefix / "key.pem"),
        "    listen 80;\n": f"    listen 127.0.0.1:{http_port};\n",
        "    listen [::]:80;\n": "",
        "    listen 443 ssl http2;\n": f"    listen 127.0.0.1:{https_port} ssl http2;\n",
        "    listen [::]:443 ssl http2;\n": "",
    }
    optional = {"/var/log/nginx/", "/var/www/letsencrypt", "/var/lib/oaf/static/"}
    for old, new in replacements.items():
        assert old in text or old in optional, f"the shipped nginx config no longer has {old!r}: update this"
        text = text.replace(old, new)
    return text


@contextlib.contextmanager
def shipped_nginx(prefix: Path, *, api_port: int, static_root: Path) -> Iterator[Nginx]:
    """nginx in the foreground with the shipped config in front of ``127.0.0.1:api_port``;
    stopped after."""
    binary = require_nginx()
    for sub in ("logs", "cache", "acme", "temp"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=media.example.org", "-keyout", str(prefix / "key.pem"), "-out", str(prefix / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    http_port, https_port = free_port(), free_port()
    (prefix / "main_api.conf").write_text(shipped_config(api_port=api_port, http_port=http_port,
                                                         https_port=https_port, prefix=prefix,
                                                         static_root=static_root))
    temp = prefix / "temp"
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""  # as root, workers would be nobody
    (prefix / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'logs' / 'error.log'} info;\n"
        "events { worker_connections 512; }\n"
        "http {\n    include /etc/nginx/mime.types;\n"
        f"    access_log {prefix / 'logs' / 'default.access.log'};\n"
        f"    client_body_temp_path {temp}/body;\n    proxy_temp_path {temp}/proxy;\n"
        f"    fastcgi_temp_path {temp}/fastcgi;\n    uwsgi_temp_path {temp}/uwsgi;\n    scgi_temp_path {temp}/scgi;\n"
        f"    include {prefix / 'main_api.conf'};\n}}\n")
    command = [str(binary), "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
               "-e", str(prefix / "logs" / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    with open(prefix / "logs" / "stderr.log", "ab") as stderr:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    server = Nginx(url=f"https://127.0.0.1:{https_port}", prefix=prefix, cache=prefix / "cache", logs=prefix / "logs")

    def up() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited with {proc.returncode}: {server.log_text()[-2000:]}")
        try:
            return server.get("/health").status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_until(up, timeout=30, what="nginx")
        yield server
    finally:
        stop(proc, timeout=10, group=True)
