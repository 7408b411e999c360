"""The upload object's ``placeholder`` and ``exif``, and the GPS position: stored only when the
owner's profile has ``keep_location`` (off by default), shown only to the owner."""

from __future__ import annotations

from main_api.media.models import Upload
from main_api.users.models import UserProfile
from tests.main_api.support import MEDIA_ID, client_for, complete_payload, make_pending, media_client

PLACEHOLDER = {"thumbhash": "3OcRJYB4d3h/iIeHeEh3eIhw+j3A", "dominant_color": "#1e59c7"}
GPS = {"lat": 48.8568, "lon": 2.294467}
EXIF = {"camera_make": "Canon", "camera_model": "Canon EOS R5", "lens": "RF24-105mm F4 L IS USM",
        "taken_at": "2024-05-01T14:30:15+02:00", "exposure_time": 0.008, "f_number": 2.8, "iso": 400,
        "focal_length_mm": 50.0, "gps": GPS}


def complete(image: Upload) -> None:
    analysis = {"quality_score": 0.8, "placeholder": PLACEHOLDER, "exif": EXIF}
    response = media_client().post(f"/api/media/complete/{image.pk}", complete_payload(MEDIA_ID, ai_analysis=analysis),
                                   format="json")
    assert response.status_code == 200, response.content


def test_keep_location_is_off_by_default(artist):
    assert UserProfile.objects.get(user=artist).keep_location is False


def test_the_gps_position_is_dropped_on_receipt_unless_the_owner_keeps_locations(artist, temp_dir):
    image = make_pending(artist)
    complete(image)
    image.refresh_from_db()
    assert image.ai_analysis["exif"] == {**EXIF, "gps": None}  # not stored at all
    body = client_for(artist).get(f"/api/uploads/{image.pk}").json()
    assert body["placeholder"] == PLACEHOLDER
    assert body["exif"] == {**EXIF, "gps": None}
    assert body["analysis"]["exif"]["gps"] is None
    analysis = client_for(artist).get(f"/api/media/analysis/{MEDIA_ID}").json()["analysis"]
    assert analysis["exif"]["gps"] is None


def test_an_owner_who_keeps_locations_sees_theirs_and_the_media_key_does_not(artist, temp_dir):
    UserProfile.objects.filter(user=artist).update(keep_location=True)
    image = make_pending(artist)
    complete(image)
    image.refresh_from_db()
    assert image.ai_analysis["exif"]["gps"] == GPS
    body = client_for(artist).get(f"/api/uploads/{image.pk}").json()
    assert body["exif"] == EXIF and body["analysis"]["exif"]["gps"] == GPS
    by_key = media_client().get(f"/api/uploads/{image.pk}").json()
    assert by_key["exif"] == {**EXIF, "gps": None} and by_key["analysis"]["exif"]["gps"] is None
    assert by_key["placeholder"] == PLACEHOLDER


def test_pending_and_older_analyses_have_no_placeholder_or_exif(artist, temp_dir):
    pending = make_pending(artist)
    body = client_for(artist).get(f"/api/uploads/{pending.pk}").json()
    assert (body["placeholder"], body["exif"]) == (None, None)
    older = make_pending(artist)
    media_client().post(f"/api/media/complete/{older.pk}", complete_payload(MEDIA_ID, ai_analysis={"width": 5}),
                        format="json")
    body = client_for(artist).get(f"/api/uploads/{older.pk}").json()
    assert (body["placeholder"], body["exif"]) == (None, None)
