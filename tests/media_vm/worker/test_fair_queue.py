"""One user's burst does not stall another user: the listing and the claim are both fair.

A user queues more images than one ``GET /api/media/pending/all`` holds, then another user
uploads one. The second user's image is processed after at most one of the first user's per
worker, counted in the order the main API recorded the results, not timed.
"""

from __future__ import annotations

import pytest

from tests.helpers import images


def processed_order(tokens: dict[str, str]) -> list[str]:
    """The owner's name of each upload, in the order the main API recorded them processed."""
    from main_api.media.models import Upload

    names = {int(user_id): name for name, user_id in tokens.items()}
    rows = Upload.objects.exclude(processed_at=None).order_by("processed_at", "pk")
    return [names[row.user_id] for row in rows]


def burst_then_one(vm, burst: int, *, registered_first: bool) -> dict[str, str]:
    """``burst`` small images from user "a", then one from user "b" (``registered_first``: once
    the VM has registered the burst); returns {name: user id}."""
    from rest_framework.authtoken.models import Token

    tokens = {"a": vm.user("burst"), "b": vm.user("newcomer")}
    for n in range(burst):
        vm.upload(tokens["a"], path=images.photo_jpeg(vm.tmp / f"a{n}.jpg", 96, 64, quality=80, seed=n + 1))
    if registered_first:
        assert vm.worker().poll() == (burst, burst)
    vm.upload(tokens["b"], path=images.photo_jpeg(vm.tmp / "b.jpg", 96, 64, quality=80, seed=99))
    return {name: str(Token.objects.get(key=token).user_id) for name, token in tokens.items()}


@pytest.mark.parametrize(("list_size", "registered_first"), [(3, False), (100, True)],
                         ids=["backlog-longer-than-a-listing", "burst-already-registered-at-the-vm"])
def test_a_burst_delays_another_users_first_image_by_at_most_one_image(vm, settings, list_size, registered_first):
    """With a listing shorter than the burst the listing's fairness decides (the newcomer's
    upload would not be listed until the burst had drained below the listing size); with the
    burst registered at the VM before the newcomer's upload the claim's does (oldest first
    would serve the newcomer last)."""
    settings.MEDIA_PENDING_LIST_SIZE = list_size
    users = burst_then_one(vm, 6, registered_first=registered_first)
    assert vm.worker(concurrency=1).work(burst=True) == 7
    order = processed_order(users)
    assert len(order) == 7
    assert order.index("b") <= 1, f"the newcomer waited for {order.index('b')} of the burst: {order}"
