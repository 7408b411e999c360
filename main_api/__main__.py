"""``python -m main_api <command>``: the main API's ``manage.py``.

Besides every Django management command there is ``serve [--port P] [--host H]``,
which replaces this process with gunicorn serving ``main_api.wsgi``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONFIG = PROJECT_ROOT / "deploy" / "gunicorn_main_api.py"


def gunicorn_argv(argv: list[str]) -> list[str]:
    """The gunicorn command line for ``serve``: the deploy config if present, else sane flags."""
    parser = argparse.ArgumentParser(prog="python -m main_api serve", description="Serve the main API.")
    parser.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port to bind (default 8000)")
    args = parser.parse_args(argv)
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")
    command = [gunicorn or "gunicorn"]
    if GUNICORN_CONFIG.is_file():
        command += ["--config", str(GUNICORN_CONFIG)]
    else:
        command += ["--workers", "2", "--threads", "4", "--timeout", "60", "--access-logfile", "-"]
    # The deploy config names its own bind address; flags given here win over it.
    if args.host or args.port or not GUNICORN_CONFIG.is_file():
        command += ["--bind", f"{args.host or '127.0.0.1'}:{args.port or 8000}"]
    command += ["--chdir", str(PROJECT_ROOT), "main_api.wsgi:application"]
    return command


def main(argv: list[str] | None = None) -> None:
    """Dispatch to ``serve`` or to Django's command line."""
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "main_api.settings")
    if len(argv) > 1 and argv[1] == "serve":
        command = gunicorn_argv(argv[2:])
        # Fail here with the settings' own message (a missing secret key, a bad
        # DATABASE_URL) rather than in every gunicorn worker.
        from django.conf import settings

        settings.DATABASES  # noqa: B018 - loading the settings is the point
        os.execvp(command[0], command)
    from django.core.management import execute_from_command_line

    argv[0] = "python -m main_api"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
