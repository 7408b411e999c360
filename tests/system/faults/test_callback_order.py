"""``complete`` and ``cleanup`` from the media VM, twice or out of order, over real HTTP:
the first outcome stands, repeats are harmless, the contrary one is refused with 409."""

from __future__ import annotations

import requests

from shared.naming import new_media_id
from tests.helpers import images


def post_complete(system, image_id, media_id):
    payload = {"media_id": media_id, "permanent_url": f"{system.vm_url}/serve/{media_id}",
               "processing_complete": True, "ai_enhanced": False, "formats_available": ["jpeg"],
               "sizes_available": ["detail"], "ai_analysis": {}}
    return requests.post(f"{system.api_url}/api/media/complete/{image_id}", json=payload,
                         headers={"Authorization": f"Bearer {system.key}"}, timeout=10)


def delete_cleanup(system, image_id):
    return requests.delete(f"{system.api_url}/api/media/cleanup/{image_id}", json={"reason": "test"},
                           headers={"Authorization": f"Bearer {system.key}"}, timeout=10)


def statuses(system, token):
    return {p["id"]: (p["status"], p["media_id"]) for p in system.me(token)["pending_images"]}


def test_complete_and_cleanup_twice_or_out_of_order(system, tmp_path):
    token = system.create_user("order", "community")
    for i in range(4):
        path = images.photo_jpeg(tmp_path / f"{i}.jpg", 200, 150, seed=i + 1)
        assert system.upload(token, {"product_image": path}).status_code == 200
    a, b, c, d = sorted(statuses(system, token))
    mid_a, mid_c = new_media_id(), new_media_id()

    # complete twice: one outcome, the same answer
    first, second = post_complete(system, a, mid_a), post_complete(system, a, mid_a)
    assert first.status_code == second.status_code == 200 and first.json() == second.json()
    # cleanup twice: failed, and the temp file gone
    assert delete_cleanup(system, b).status_code == 200
    assert delete_cleanup(system, b).status_code == 200
    # complete, then a contrary cleanup: finished work is kept
    assert post_complete(system, c, mid_c).status_code == 200
    assert delete_cleanup(system, c).status_code == 409
    # cleanup, then a late complete: the failure stands
    assert delete_cleanup(system, d).status_code == 200
    late = post_complete(system, d, new_media_id())
    assert late.status_code == 409 and late.json()["message"]
    # a second media id for a processed image is refused too
    assert post_complete(system, a, new_media_id()).status_code == 409

    assert statuses(system, token) == {a: ("complete", mid_a), b: ("failed", None), c: ("complete", mid_c),
                                       d: ("failed", None)}
