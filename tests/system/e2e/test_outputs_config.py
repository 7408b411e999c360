"""Sizes and presets as configuration with real processes: one outputs file read by the main API
(gunicorn), the media VM server and the workers. A size added to the file is made for new
uploads and backfilled for an image processed before it (``python -m media_vm backfill``), and
a tool added to the file is a ``source_tool`` both services accept, from a URL import too (the
served main API fetching from an allow-listed local server, and refusing another port)."""

from __future__ import annotations

import pytest
import pyvips
import requests

from shared.outputs import BUILTIN_FILE
from tests.helpers import images
from tests.helpers.image_host import ImageHost
from tests.helpers.system import running_system

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


@pytest.fixture(scope="module")
def image_host():
    host = ImageHost()
    yield host
    host.close()


@pytest.fixture(scope="module")
def system(tmp_path_factory, image_host):
    """The system on an outputs file with a portrait size and a tool of its own, allowed to import
    from ``image_host``."""
    tmp = tmp_path_factory.mktemp("outputs")
    custom = tmp / "outputs.toml"
    custom.write_text(BUILTIN_FILE.read_text().replace(
        'default = ["thumbnail", "grid", "small", "detail", "header", "zoom"]',
        'default = ["thumbnail", "grid", "small", "detail", "header", "portrait", "zoom"]') + PORTRAIT)
    env = {"MEDIA_OUTPUTS_FILE": str(custom), "URL_IMPORT_ALLOWED_HOSTS": f"127.0.0.1:{image_host.port}"}
    with running_system(tmp, extra_env=env) as running:
        yield running


def test_a_size_and_a_tool_added_to_the_file_reach_new_uploads_and_the_backfill(system):
    tmp = system.tmp
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


def test_an_image_imported_from_a_url_by_the_served_main_api_gets_its_tools_outputs(system, image_host):
    token = system.create_user("importer", "artist")
    auth = {"Authorization": f"Token {token}"}
    url = image_host.body("/art.jpg", images.photo_jpeg(system.tmp / "art.jpg", 900, 700, seed=33).read_bytes(),
                          content_type="image/jpeg")
    answer = requests.post(f"{system.api_url}/api/uploads/from-url", headers=auth, timeout=30,
                           json={"url": url, "field": "product_image", "source_tool": "flux"})
    assert answer.status_code == 201, answer.text
    other = ImageHost()  # a loopback port no allow-list names
    try:
        refused = requests.post(f"{system.api_url}/api/uploads/from-url", headers=auth, timeout=30,
                                json={"url": other.body("/x.jpg", b"x", "image/jpeg"), "field": "product_image"})
        assert refused.status_code == 400 and refused.json()["extra"]["reason"] == "address", refused.text
        assert other.hits == [], "nothing was sent to the refused address"
    finally:
        other.close()
    run = system.worker("--once")
    assert run.returncode == 0, run.stderr[-2000:]
    upload = requests.get(f"{system.api_url}/api/uploads/{answer.json()['id']}", headers=auth, timeout=30).json()
    assert upload["status"] in ("processed", "complete")
    normal = {v["size"]: v for v in upload["variants"]}["normal"]
    assert (normal["width"], normal["height"], normal["formats"]) == (512, 512, ["png"])
