"""An animated AVIF upload is accepted as an AVIF (its first frame is what the VM makes); one
with no frame that decodes is a 400 that says so, not "truncated or corrupt"."""

from __future__ import annotations

from tests.main_api.support import upload
from tests.media_vm.imaging.test_avif_sequences import _sequence


def test_an_animated_avif_upload_is_accepted(artist, user_client, temp_dir, tmp_path):
    data = _sequence(tmp_path, 3).read_bytes()
    response = upload(user_client, profile_image=("anim.avif", data, "image/avif"))
    assert response.status_code == 200, response.content


def test_an_animated_avif_with_no_decodable_frame_is_refused_saying_so(artist, user_client, temp_dir, tmp_path):
    data = bytearray(_sequence(tmp_path, 2).read_bytes())
    start = data.find(b"mdat") + 4
    data[start:] = b"\x55" * (len(data) - start)
    response = upload(user_client, profile_image=("anim.avif", bytes(data), "image/avif"))
    assert response.status_code == 400
    assert response.json() == {
        "message": "animated AVIF with no still image or first frame that can be decoded",
        "extra": {"field": "profile_image"},
    }
