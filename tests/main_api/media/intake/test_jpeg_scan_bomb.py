"""The upload gate refuses a JPEG scan bomb from its scan count, in well under a second, with a
JSON error that says why (``MAX_JPEG_SCANS``; the count is the VM's own, ``imaging.jpeg_scans``)."""

from __future__ import annotations

import time

from main_api.media.models import Upload
from tests.helpers.jpeg_bombs import scan_bomb
from tests.main_api.support import upload


def test_a_scan_bomb_upload_is_a_400_naming_the_limit_in_well_under_a_second(artist, user_client, temp_dir,
                                                                              tmp_path):
    data, scans = scan_bomb(tmp_path)  # 2,080 scans, 24 MP, 0.28 MB: 11 s at the gate without the limit
    started = time.perf_counter()
    response = upload(user_client, profile_image=("bomb.jpg", data))
    seconds = time.perf_counter() - started
    assert response.status_code == 400, response.content
    assert response.json() == {
        "message": "JPEG has more than 100 progressive scans (each one a full decoding pass), and is refused",
        "extra": {"field": "profile_image", "max_scans": 100},
    }
    assert seconds < 1.0, f"the gate took {seconds:.2f} s"
    assert not Upload.objects.exists()


def test_the_scan_limit_is_read_from_settings(settings, artist, user_client, temp_dir, tmp_path):
    data, scans = scan_bomb(tmp_path, 320, 240)
    settings.MAX_JPEG_SCANS = scans
    assert upload(user_client, profile_image=("many-scans.jpg", data)).status_code == 200
    settings.MAX_JPEG_SCANS = scans - 1
    response = upload(user_client, profile_image=("many-scans.jpg", data))
    assert response.status_code == 400 and response.json()["extra"]["max_scans"] == scans - 1
