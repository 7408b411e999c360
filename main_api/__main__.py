"""``python -m main_api <command>``: the main API's ``manage.py``.

Besides every Django management command there is ``serve [--port P] [--host H]``,
which replaces this process with gunicorn serving ``main_api.asgi`` in uvicorn workers, and
``settings``, which prints each setting's effective value and its source.
In production mode (``DJANGO_DEBUG`` off) it first collects the static files the admin and
``/api/docs/`` need (quietly; ``collectstatic`` skips what is already there).
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
        command += ["--workers", "2", "--worker-class", "main_api.common.serving.UvicornWorker", "--timeout", "60",
                    "--access-logfile", "-"]
    # The deploy config names its own bind address; flags given here win over it.
    if args.host or args.port or not GUNICORN_CONFIG.is_file():
        command += ["--bind", f"{args.host or '127.0.0.1'}:{args.port or 8000}"]
    command += ["--chdir", str(PROJECT_ROOT), "main_api.asgi:application"]
    return command


def static_files_collect() -> None:
    """Run ``collectstatic`` quietly when the settings serve hashed static files (production
    mode), which answer 500 for a page naming a file that was never collected.

    Exits with a one-line message (status 1) if collecting fails, e.g. an unwritable ``STATIC_ROOT``.
    """
    import django
    from django.conf import settings

    django.setup()
    from django.contrib.staticfiles.storage import ManifestFilesMixin
    from django.utils.module_loading import import_string

    if not issubclass(import_string(settings.STORAGES["staticfiles"]["BACKEND"]), ManifestFilesMixin):
        return  # DEBUG and tests serve the files from the apps' folders
    from django.core.management import call_command

    try:
        call_command("collectstatic", "--noinput", verbosity=0)
    except Exception as e:  # noqa: BLE001 - any failure here means the admin would answer 500
        sys.exit(f"python -m main_api serve: cannot collect the static files into {settings.STATIC_ROOT}: {e}")


def settings_print(argv: list[str]) -> None:
    """``settings``: each setting of ``main_api.declarations`` with its effective value and where
    it came from (environment or default), secrets masked, a bad value as ``invalid: ...``. Reads
    the environment only, without Django, so that it works where the settings would refuse to load."""
    argparse.ArgumentParser(prog="python -m main_api settings", description=settings_print.__doc__).parse_args(argv)
    from main_api.declarations import MAIN_API
    from shared.config import report_lines

    print("\n".join(report_lines(MAIN_API, os.environ)))


def main(argv: list[str] | None = None) -> None:
    """Dispatch to ``serve`` or to Django's command line."""
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "main_api.settings")
    if len(argv) > 1 and argv[1] == "settings":
        settings_print(argv[2:])
        return
    if len(argv) > 1 and argv[1] == "serve":
        command = gunicorn_argv(argv[2:])
        # Fail here with the settings' own message (a missing secret key, a bad
        # DATABASE_URL) rather than in every gunicorn worker.
        from django.conf import settings

        settings.DATABASES  # noqa: B018 - loading the settings is the point
        static_files_collect()
        os.execvp(command[0], command)
    from django.core.management import execute_from_command_line

    argv[0] = "python -m main_api"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
