"""An upload the media VM fails leaves its owner's profile as it was, and says why (issue 12).

The real worker against the live main API: a first profile image is processed and its URL
replaced; a second one, damaged on the main API's disk after the upload gate accepted it, is
failed by the VM as corrupt and reported with the cleanup.
"""

from __future__ import annotations

import requests
from django.conf import settings

DAMAGED = "We could not read this image: the file is damaged or incomplete."


def me(vm, token: str) -> dict:
    r = requests.get(f"{vm.api_url}/users/me", headers={"Authorization": f"Token {token}"}, timeout=30)
    r.raise_for_status()
    return r.json()


def test_a_profile_image_the_vm_fails_leaves_the_previous_one_and_the_owner_sees_why(vm):
    from main_api.media.intake import temp_storage
    from main_api.media.models import Upload
    from main_api.users.models import UserProfile

    token = vm.user("painter", "artist")
    vm.upload(token, "profile_image", name="first.jpg", seed=1)
    assert vm.worker().work(burst=True) == 1
    [first] = vm.rows()
    first_url = f"{settings.SMART_MEDIA_BASE_URL}/{first['media_id']}?size=detail"
    assert me(vm, token)["profile_image_path"] == first_url

    vm.upload(token, "profile_image", name="second.jpg", seed=2)
    second = Upload.objects.latest("pk")
    original = temp_storage.file_for_url_path(second.image_path)
    data = original.read_bytes()
    original.write_bytes(data[: len(data) // 2])  # truncated on disk after the gate accepted it
    assert me(vm, token)["profile_image_path"] == second.image_path

    vm.worker().work(burst=True)

    failed = vm.rows()[-1]
    assert (failed["main_api_id"], failed["status"], failed["reported"]) == (second.pk, "failed", True)
    second.refresh_from_db()
    assert second.status == "failed" and "cannot decode" in second.failure_reason, second.failure_reason
    body = me(vm, token)
    assert body["profile_image_path"] == first_url, "the profile keeps the first image"
    assert UserProfile.objects.get(user__username="painter").profile_image_path == first_url
    shown = {p["id"]: p for p in body["pending_images"]}
    assert (shown[second.pk]["status"], shown[second.pk]["failure_reason"]) == ("failed", DAMAGED)
    assert shown[first["main_api_id"]]["failure_reason"] is None
