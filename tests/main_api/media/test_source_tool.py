"""``source_tool``: which tool made an upload, so that it also gets that tool's preset outputs."""

from __future__ import annotations

import pytest

from main_api.media.models import Upload
from tests.helpers.files import files_under
from tests.helpers.images import image_bytes
from tests.main_api import support

pytestmark = pytest.mark.django_db


def listed(image_id: int) -> dict:
    return next(r for r in support.media_client().get("/api/media/pending/all").json()["images"] if r["id"] == image_id)


def test_the_tool_named_in_a_patch_is_kept_for_each_file_and_listed_to_the_media_vm(user_client):
    answer = user_client.patch("/users/me", {
        "source_tool": "stable-diffusion",
        "product_image": support.SimpleUploadedFile("a.png", image_bytes("PNG"), content_type="image/png"),
        "event_image": support.SimpleUploadedFile("b.jpg", image_bytes("JPEG"), content_type="image/jpeg"),
    }, format="multipart")
    assert answer.status_code == 200, answer.content
    images = list(Upload.objects.order_by("id"))
    assert [i.source_tool for i in images] == ["stable-diffusion", "stable-diffusion"]
    assert [listed(i.pk)["source_tool"] for i in images] == ["stable-diffusion", "stable-diffusion"]

    support.upload(user_client, product_image=("c.jpg", image_bytes("JPEG")))
    assert listed(Upload.objects.latest("id").pk)["source_tool"] is None


def test_an_unknown_tool_is_a_400_naming_the_field_and_nothing_is_stored(user_client, temp_dir):
    answer = user_client.patch("/users/me", {
        "source_tool": "midjourney",
        "product_image": support.SimpleUploadedFile("a.png", image_bytes("PNG"), content_type="image/png"),
    }, format="multipart")
    assert answer.status_code == 400
    assert "source_tool" in answer.json()["extra"]["fields"]
    assert not Upload.objects.exists() and files_under(temp_dir) == []


def test_re_processing_keeps_the_tool(user_client, artist):
    from main_api.media.services.reprocessing import upload_reprocess

    user_client.patch("/users/me", {"source_tool": "sora", "product_image": support.SimpleUploadedFile(
        "a.png", image_bytes("PNG"), content_type="image/png")}, format="multipart")
    image = Upload.objects.get()
    support.media_client().post(f"/api/media/complete/{image.pk}", support.complete_payload(), format="json")
    again = upload_reprocess(image_id=image.pk)
    assert again.source_tool == "sora"
