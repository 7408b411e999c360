"""Two main API hosts behind a balancer: an upload taken by one, fetched by the media VM from the
other. Each host is a real ``python -m main_api serve`` (gunicorn, uvicorn workers) with a
``TEMP_IMAGES_DIR`` of its own; the database is shared (SQLite here, a MariaDB database under
``make test-mysql``/CI), and with ``TEMP_STORAGE=s3`` so is a bucket on the moto server.

With local temp storage the other host has no such file (404): the case this storage exists for.
"""

from __future__ import annotations

import pytest
import requests

from media_vm.api_client import MainAPIClient, MainAPIError
from tests.helpers.api_servers import api_servers
from tests.helpers.files import files_under
from tests.helpers.images import image_bytes


def file_names_under(folder) -> list[str]:
    return [p.name for p in files_under(folder)]


@pytest.mark.parametrize("storage", ["s3", "local"])
def test_the_media_vm_fetches_an_upload_through_the_host_that_did_not_take_it(tmp_path, s3_bucket, storage):
    env = s3_bucket.temp_env if storage == "s3" else {}
    folders = [tmp_path / "host-0-temp", tmp_path / "host-1-temp"]
    with api_servers(tmp_path, 2, per_server_env=lambda i: {"TEMP_IMAGES_DIR": str(folders[i])}, **env) as servers:
        token = servers.system.create_user("painter", "artist")
        original = image_bytes("PNG", (64, 48))
        answer = requests.patch(f"{servers.urls[0]}/users/me", headers={"Authorization": f"Token {token}"},
                                files={"profile_image": ("me.png", original, "image/png")}, timeout=60)
        assert answer.status_code == 200, answer.text

        vm = MainAPIClient(servers.urls[1], servers.system.key)
        [row] = vm.pending()
        if storage == "s3":
            with vm.download(row["image_path"]) as chunks:
                assert b"".join(chunks) == original
            assert file_names_under(folders[0]) == file_names_under(folders[1]) == [], "nothing on either host's disk"
            assert len(s3_bucket.keys("profiles/")) == 1
        else:
            with pytest.raises(MainAPIError) as missing, vm.download(row["image_path"]) as chunks:
                b"".join(chunks)
            assert missing.value.status == 404
            assert file_names_under(folders[1]) == [] and len(file_names_under(folders[0])) == 1
            # the host that took it serves it
            with MainAPIClient(servers.urls[0], servers.system.key).download(row["image_path"]) as chunks:
                assert b"".join(chunks) == original
