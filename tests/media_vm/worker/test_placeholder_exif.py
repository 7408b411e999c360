"""The placeholder and the EXIF facts through the real worker and the live main API: a camera
photo's upload object carries both; its ThumbHash decodes to the thumbnail file the VM made; its
GPS position is kept only for an owner with ``keep_location``."""

from __future__ import annotations

import numpy as np
import pyvips
from PIL import Image

from media_vm.imaging.placeholder import decode_thumbhash
from tests.helpers.colour import as_rgb
from tests.helpers.images import astronaut
from tests.media_vm.imaging.test_exif import camera_jpeg
from tests.media_vm.imaging.test_placeholder import CELL_DELTA_E, cell_delta_e


def camera_astronaut(tmp, name: str):
    """The astronaut photo (a real scene) with the full camera EXIF of ``camera_jpeg``."""
    with Image.open(camera_jpeg(tmp / "exif-source.jpg")) as source:
        exif = source.getexif()
    path = tmp / name
    Image.fromarray(np.asarray(astronaut().numpy(), dtype=np.uint8)).save(path, exif=exif, quality=92)
    return path


def test_a_camera_photo_has_its_placeholder_and_exif_and_no_location_by_default(vm):
    from main_api.media.models import Upload

    token = vm.user("painter", "artist")
    vm.upload(token, "product_image", path=camera_astronaut(vm.tmp, "camera.jpg"))
    assert vm.worker().work(burst=True) == 1
    [row] = vm.rows()
    body = vm.upload_object(token, Upload.objects.get().pk)

    assert body["exif"] == {
        "camera_make": "Canon", "camera_model": "Canon EOS R5", "lens": "RF24-105mm F4 L IS USM",
        "taken_at": "2024-05-01T14:30:15+02:00", "exposure_time": 0.008, "f_number": 2.8, "iso": 400,
        "focal_length_mm": 50.0, "gps": None,
    }
    stored = vm.repo.analysis(row["id"])  # the media VM's own record holds no position either
    assert stored["exif"]["camera_model"] == "Canon EOS R5" and stored["exif"]["gps"] is None
    assert row["keep_location"] is False
    [file] = [v for v in vm.repo.variants(row["media_id"])
              if (v["size"], v["format"], v["bg"]) == ("thumbnail", "jpeg", "original")]
    thumbnail = as_rgb(pyvips.Image.new_from_file(str(vm.settings.storage_root / file["path"])))  # the file served
    cells = cell_delta_e(decode_thumbhash(body["placeholder"]["thumbhash"])[..., :3], thumbnail)
    assert cells.max() <= CELL_DELTA_E, np.round(cells, 1)
    assert body["placeholder"]["dominant_color"] == body["analysis"]["dominant_colors"][0]["hex"]


def test_an_owner_who_keeps_locations_gets_the_position(vm):
    from main_api.media.models import Upload
    from main_api.users.models import UserProfile

    token = vm.user("walker", "artist")
    UserProfile.objects.filter(user__username="walker").update(keep_location=True)
    vm.upload(token, "product_image", path=camera_astronaut(vm.tmp, "walk.jpg"))
    assert vm.worker().work(burst=True) == 1
    assert vm.upload_object(token, Upload.objects.get().pk)["exif"]["gps"] == {"lat": 48.8568, "lon": 2.294467}
    [row] = vm.rows()
    assert vm.repo.analysis(row["id"])["exif"]["gps"] == {"lat": 48.8568, "lon": 2.294467}
