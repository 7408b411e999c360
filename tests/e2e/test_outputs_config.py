"""Sizes and presets as configuration with real processes: one outputs file read by the main API
(gunicorn), the media VM server and the workers. A size added to the file is made for new
uploads and backfilled for an image processed before it (``python -m media_vm backfill``), and
a tool added to the file is a ``source_tool`` both services accept."""

from __future__ import annotations

import pyvips
import requests

from shared.outputs import BUILTIN_FILE
from tests.e2e.system import running_system
from tests.helpers import images

PORTRAIT = '''
[sizes.portrait]
box = [1080, 1920]
fit = "inside"
webp = { quality = 70 }

[presets.flux.normal]
box = [512, 512]
fit = "crop"
formats = ["png"]
'''


def test_a_size_and_a_tool_added_to_the_file_reach_new_uploads_and_the_backfill(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("outputs")
    custom = tmp / "outputs.toml"
    custom.write_text(BUILTIN_FILE.read_text().replace(
        'default = ["thumbnail", "grid", "small", "detail", "header", "zoom"]',
        'default = ["thumbnail", "grid", "small", "detail", "header", "portrait", "zoom"]') + PORTRAIT)
    with running_system(tmp, extra_env={"MEDIA_OUTPUTS_FILE": str(custom)}) as system:
        token = system.create_user("operator", "artist")
        auth = {"Authorization": f"Token {token}"}
        before = images.photo_jpeg(tmp / "before.jpg", 1500, 3000, seed=31)
        assert system.upload(token, {"product_image": before}).status_code == 200
        # processed by a worker that still has the built-in file: no portrait yet
        run = system.worker("--once", env={"MEDIA_OUTPUTS_FILE": str(BUILTIN_FILE)})
        assert run.returncode == 0, run.stderr[-2000:]

        after = images.photo_jpeg(tmp / "after.jpg", 1200, 900, seed=32)
        answer = requests.patch(f"{system.api_url}/users/me", headers=auth, data={"source_tool": "flux"},
                                files={"product_image": ("a.jpg", after.read_bytes(), "image/jpeg")}, timeout=30)
        assert answer.status_code == 200, answer.text
        run = system.worker("--once")
        assert run.returncode == 0, run.stderr[-2000:]

        uploads = requests.get(f"{system.api_url}/api/uploads", headers=auth, timeout=30).json()["results"]
        old, new = sorted(uploads, key=lambda u: u["id"])
        sizes = {v["size"]: v for v in new["variants"]}
        assert (sizes["portrait"]["width"], sizes["portrait"]["height"]) == (1080, 810), "inside the box"
        assert (sizes["normal"]["width"], sizes["normal"]["height"], sizes["normal"]["formats"]) == (512, 512, ["png"])
        assert "portrait" not in {v["size"] for v in old["variants"]}
        png = requests.get(f"{system.api_url}/api/images/{new['media_id']}?size=normal", timeout=30)
        assert png.headers["Content-Type"] == "image/png"

        backfill = system.vm_command("backfill")
        assert "1 queued" in backfill, backfill  # the old image; the new one has every output
        run = system.worker("--once")
        assert run.returncode == 0, run.stderr[-2000:]
        old = requests.get(f"{system.api_url}/api/uploads/{old['id']}", headers=auth, timeout=30).json()
        portrait = {v["size"]: v for v in old["variants"]}["portrait"]
        assert (portrait["width"], portrait["height"]) == (960, 1920)
        served = requests.get(portrait["url"] + "&format=webp", timeout=30)
        assert served.status_code == 200
        assert pyvips.Image.new_from_buffer(served.content, "").height == 1920
        assert "0 queued" in system.vm_command("backfill")
