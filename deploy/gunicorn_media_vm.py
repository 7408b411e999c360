"""gunicorn settings for the media VM's server (``python -m media_vm serve``).

The server imports no pyvips, so forking is safe; it streams files with sendfile
through ``wsgi.file_wrapper``. gthread workers keep many slow clients cheap.
"""

import multiprocessing
import os

from media_vm.declarations import MEDIA_VM

# GUNICORN_* as media_vm/declarations.py declares them (defaults, help, parse errors)
_setting = MEDIA_VM.read(os.environ)
workers = _setting["GUNICORN_WORKERS"] or max(2, multiprocessing.cpu_count())
threads = _setting["GUNICORN_THREADS"]
worker_class = "gthread"
timeout = _setting["GUNICORN_TIMEOUT"]
graceful_timeout = 15
keepalive = 5
accesslog = _setting["GUNICORN_ACCESSLOG"] or None  # empty: no access log
errorlog = "-"
sendfile = True
# several gunicorns share a host (main API, media VM, tests): no shared control socket
control_socket_disable = True


def post_worker_init(worker):  # noqa: ANN001 - gunicorn's hook signature
    """The app's own log lines in LOG_FORMAT (json unless DJANGO_ENV=dev), like the worker's."""
    from media_vm.logging_setup import configure

    configure()
