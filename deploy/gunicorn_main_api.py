"""gunicorn settings for the main API (``python -m main_api serve``).

ASGI: Django's ASGI app (``main_api.asgi``) in uvicorn workers (``main_api.common.serving``).
A slow client costs a socket on an event loop, not one of a few threads, so 100 clients
trickling a body or stuck mid-headers leave ``/health`` and the API answering; sync views
still run, each request's sync code in a thread of its own. Read timeouts: request head
``REQUEST_HEADER_TIMEOUT_SECONDS`` (10 s, in the worker), a stalled body
``REQUEST_BODY_TIMEOUT_SECONDS`` (30 s, 408, in ``main_api.common.asgi``). Override any of
these with GUNICORN_* env vars or gunicorn's own flags.
"""

import multiprocessing
import os
import shutil
from pathlib import Path

from main_api.declarations import MAIN_API

# GUNICORN_* as main_api/declarations.py declares them (defaults, help, parse errors)
_setting = MAIN_API.read(os.environ)
wsgi_app = "main_api.asgi:application"
workers = _setting["GUNICORN_WORKERS"] or max(2, multiprocessing.cpu_count())
worker_class = "main_api.common.serving.UvicornWorker"
# the arbiter restarts a worker whose event loop has not checked in for this long
timeout = _setting["GUNICORN_TIMEOUT"]
graceful_timeout = 20
# uvicorn's timeout_keep_alive: an idle keep-alive connection is closed after this
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
# empty: no access log. Its lines are uvicorn's (gunicorn's access_log_format does not apply to
# uvicorn workers), with credentials in URLs redacted (main_api.common.serving.UvicornWorker)
accesslog = _setting["GUNICORN_ACCESSLOG"] or None
errorlog = "-"
# the proxies whose X-Forwarded-* are believed: the app applies this itself
# (main_api.common.client_address); said here too so that gunicorn never falls back to its own
# default (127.0.0.1) for anything of its own
forwarded_allow_ips = ",".join(_setting["FORWARDED_ALLOW_IPS"])
# the upload limit is enforced while reading (main_api.common.asgi); these cap the request head,
# enforced by the worker's protocol (431)
limit_request_line = 8190
limit_request_field_size = 16384
limit_request_fields = 100
# several gunicorns share a host (main API, media VM, tests): no shared control socket
control_socket_disable = True


def on_starting(server):  # noqa: ANN001 - gunicorn's hook signature
    """With PROMETHEUS_MULTIPROC_DIR, the folder is emptied (made if missing) before any worker
    starts: the files of an earlier run's workers would be summed into this run's counters, and
    one left half-written would fail every scrape."""
    folder = _setting["PROMETHEUS_MULTIPROC_DIR"]
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):  # noqa: ANN001 - gunicorn's hook signature
    """With PROMETHEUS_MULTIPROC_DIR, a dead worker's live gauges leave the scrape (its counters
    stay: they are summed into every later scrape, so no counter goes down)."""
    if _setting["PROMETHEUS_MULTIPROC_DIR"]:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
