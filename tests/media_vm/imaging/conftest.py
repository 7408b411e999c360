from __future__ import annotations

from pathlib import Path

import pytest

from media_vm.imaging import configure_libvips


@pytest.fixture(scope="session", autouse=True)
def _libvips_configured() -> None:
    """The pipeline's process set-up, as the worker and the CLI do it."""
    configure_libvips()


@pytest.fixture(scope="session")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide folder for generated input images."""
    return tmp_path_factory.mktemp("inputs")
