"""Django settings of the test run (``DJANGO_SETTINGS_MODULE`` in pyproject.toml).

The main API's own settings (``main_api.settings``) read with ``DJANGO_ENV`` defaulting to
``test`` (a ``DJANGO_ENV`` of the environment still wins): the insecure key, ``testserver``, fast
password hashing, static files from the apps, text logs. Processes a test starts (``python -m
main_api ...``, the e2e system) are deployments of their own: they load ``main_api.settings`` with
the environment the test gives them, neither this module nor its ``DJANGO_ENV``.
"""

from __future__ import annotations

import os

_given = os.environ.get("DJANGO_ENV")
os.environ.setdefault("DJANGO_ENV", "test")
try:
    from main_api.settings import *  # noqa: F403 - this module is those settings, in test mode
finally:
    if _given is None:
        del os.environ["DJANGO_ENV"]
# pytest-django exported this module's name for the run; what a test starts loads the service's own
os.environ["DJANGO_SETTINGS_MODULE"] = "main_api.settings"
