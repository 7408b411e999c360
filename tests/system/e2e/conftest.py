from __future__ import annotations

import pytest

from tests.helpers.system import running_system


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    """The main API and the media VM server, started once for a module's tests."""
    with running_system(tmp_path_factory.mktemp("system")) as s:
        yield s
