"""The pending images admin: previews, variant links, the analysis, the re-process action."""

from __future__ import annotations

import pytest
from django.test import Client

from main_api.media.models import Upload
from main_api.users.models import User
from tests.main_api.support import MEDIA_ID, complete_payload, make_pending, media_client

CHANGELIST = "/admin/media/upload/"


@pytest.fixture
def staff_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw-for-tests-only"))
    return client


def test_the_list_previews_processed_images_only(staff_client, artist, temp_dir):
    done = make_pending(artist, "profile_image")
    waiting = make_pending(artist, "header_image")
    media_client().post(f"/api/media/complete/{done.pk}", complete_payload(), format="json")

    page = staff_client.get(CHANGELIST).content.decode()

    assert f'<img src="/api/images/{MEDIA_ID}?size=thumbnail" alt="thumbnail of #{done.pk}"' in page
    assert f'alt="thumbnail of #{waiting.pk}"' not in page


def test_the_change_view_links_variants_and_shows_the_analysis(staff_client, artist, temp_dir):
    done = make_pending(artist, "profile_image")
    media_client().post(f"/api/media/complete/{done.pk}", complete_payload(), format="json",
                        HTTP_X_REQUEST_ID="upload-req-0001")

    response = staff_client.get(f"{CHANGELIST}{done.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    for size in ("thumbnail", "grid", "small", "detail"):
        assert f'<a href="/api/images/{MEDIA_ID}?size={size}">{size}</a>' in page
    assert 'size=zoom"' not in page  # not in sizes_available
    for fmt in ("avif", "webp", "jpeg"):
        assert f'<a href="/api/images/{MEDIA_ID}?size=detail&amp;format={fmt}">{fmt}</a>' in page
    assert "&quot;dominant_colors&quot;: [\n    &quot;#c81e5a&quot;\n  ]" in page
    assert "&quot;quality_score&quot;: 0.82" in page
    # read-only: no form to save, no way around the services
    assert 'name="_save"' not in page
    assert staff_client.post(f"{CHANGELIST}{done.pk}/change/", {"status": "failed"}).status_code == 403
    assert Upload.objects.get(pk=done.pk).status == "complete"
    assert staff_client.get(f"{CHANGELIST}add/").status_code == 403


def test_search_by_request_id(staff_client, artist, user_client, temp_dir):
    from tests.helpers.images import image_bytes
    from tests.main_api.support import upload

    upload(user_client, profile_image=("me.png", image_bytes("PNG", (32, 32)), "image/png"))
    user_client.credentials(HTTP_AUTHORIZATION=user_client._credentials["HTTP_AUTHORIZATION"],
                            HTTP_X_REQUEST_ID="find-me-0123456789")
    upload(user_client, header_image=("h.png", image_bytes("PNG", (32, 32)), "image/png"))
    wanted = Upload.objects.get(request_id="find-me-0123456789")

    response = staff_client.get(CHANGELIST + "?q=find-me-0123456789")

    assert {obj.pk for obj in response.context["cl"].result_list} == {wanted.pk}


def test_reprocess_action(staff_client, artist, temp_dir):
    done = make_pending(artist, "profile_image")
    waiting = make_pending(artist, "header_image")
    media_client().post(f"/api/media/complete/{done.pk}", complete_payload(), format="json")

    response = staff_client.post(
        CHANGELIST, {"action": "reprocess", "_selected_action": [str(done.pk), str(waiting.pk)]}, follow=True
    )

    messages = [str(m) for m in response.context["messages"]]
    assert "Re-queued 1 image(s)." in messages
    assert any(f"#{waiting.pk}: only processed or complete images can be re-processed" in m for m in messages)
    again = Upload.objects.get(reprocess_of=done)
    assert again.status == "pending"
    assert Upload.objects.get(pk=done.pk).status == "complete"
