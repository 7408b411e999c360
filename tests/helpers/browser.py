"""Headless Chromium for the browser tier (``tests/browser/``): Debian's ``chromium`` and
``chromium-driver`` through Selenium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


@contextmanager
def headless_chromium(*arguments: str, script_timeout: float = 30) -> Iterator[Any]:
    """A headless Chromium driven by chromedriver (a ``selenium`` ``WebDriver``), with
    ``arguments`` added to the ones every browser test needs, quit on the way out. Skips as
    :func:`browser_binaries` does."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = browser_binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", *arguments):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_script_timeout(script_timeout)
    try:
        yield driver
    finally:
        driver.quit()
