"""gunicorn settings for the main API (``python -m main_api serve``).

Sync workers suit Django's blocking ORM; uploads are capped at 5 MiB per file, so a
request never holds a worker long. Override any of these with GUNICORN_* env vars or
gunicorn's own flags.
"""

import multiprocessing
import os

wsgi_app = "main_api.wsgi:application"
workers = int(os.environ.get("GUNICORN_WORKERS", max(2, multiprocessing.cpu_count())))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None  # empty: no access log
errorlog = "-"
# the upload limit is enforced in Django while reading; this caps headers only
limit_request_field_size = 16384
# several gunicorns share a host (main API, media VM, tests): no shared control socket
control_socket_disable = True


def child_exit(server, worker):  # noqa: ANN001 - gunicorn's hook signature
    """With PROMETHEUS_MULTIPROC_DIR, a dead worker's live gauges leave the scrape."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
