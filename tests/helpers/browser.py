"""Headless Chromium for the browser tier (``tests/browser/``): Debian's ``chromium`` and
``chromium-driver`` through Selenium."""

from __future__ import annotations

import os
import shutil

import pytest


def browser_binaries() -> tuple[str, str]:
    """Chromium and chromedriver (Debian's ``chromium``, ``chromium-driver``): a skip when missing,
    a failure in CI, which must run these tests."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    missing = [name for name, found in (("chromium", browser), ("chromium-driver", driver)) if not found]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip)")
    if missing:
        message = f"the browser tests need {', '.join(missing)} (make test installs them with apt-get)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert browser and driver
    return browser, driver
