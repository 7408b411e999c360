"""The VM builds paths from ids only: a payload's ``image_path`` outside ``/temp_images/``
is refused before any request is made, and the refusal is permanent (not retried)."""

from __future__ import annotations

import pytest

from media_vm.api_client import MainAPIClient, MainAPIError


@pytest.mark.parametrize("image_path", [
    "/etc/passwd", "/temp_images/../../etc/passwd", "/temp_images//etc/passwd", "http://evil.test/x.jpg",
    "/api/media/pending/all", "temp_images/profiles/x.jpg",
])
def test_image_path_outside_the_temp_folder_is_refused(image_path):
    client = MainAPIClient("http://127.0.0.1:9", "key", timeout=1)
    with pytest.raises(MainAPIError) as caught, client.download(image_path):
        pass
    assert caught.value.permanent
    assert "refusing image_path" in str(caught.value)


def test_statuses_that_are_worth_retrying():
    assert not MainAPIError("x", status=None).permanent  # connection refused, timeout
    assert not MainAPIError("x", status=503).permanent
    assert not MainAPIError("x", status=429).permanent
    assert MainAPIError("x", status=404).permanent
    assert MainAPIError("x", status=409).permanent
