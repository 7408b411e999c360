"""Image intelligence through the real processes: uploads -> worker -> analysis on the main API,
near duplicates flagged, /api/media/similar answered from the VM, a vision provider merged."""

from __future__ import annotations

import os
import shutil

import pytest
import pyvips
import requests

from shared.payloads import ANALYSIS_FIELDS, ANALYSIS_LOCAL_FIELDS
from tests.helpers import images
from tests.helpers.images import PAGE_LINES, astronaut_jpeg, text_page
from tests.media_vm.fake_vision import GOOGLE_ANSWER, FakeVision

OCR_EXPECTED = shutil.which("tesseract") is not None or bool(os.environ.get("CI"))


@pytest.fixture(scope="module")
def uploaded(system, tmp_path_factory):
    """Ada uploads a photo, then a resized re-encoded copy of it, then other pictures; Bea uploads
    Ada's photo byte for byte. One worker, with Google Vision pointed at a local fake, drains it."""
    tmp = tmp_path_factory.mktemp("similar")
    photo = images.photo_jpeg(tmp / "photo.jpg", 1600, 1200, seed=3)
    pyvips.Image.new_from_file(str(photo)).resize(0.7).jpegsave(str(tmp / "copy.jpg"), Q=70)
    astronaut = astronaut_jpeg(tmp / "astronaut.jpg")
    page = text_page(tmp / "page.png")
    logo = tmp / "logo.png"
    images.logo(logo)
    ada = system.create_user("ada_similar", "artist")
    bea = system.create_user("bea_similar", "artist")
    for token, files in (
        (ada, {"product_image": photo}),
        (ada, {"product_image": tmp / "copy.jpg"}),
        (ada, {"profile_image": astronaut, "event_image": page, "logo_image": logo}),
        (bea, {"product_image": photo}),
    ):
        r = system.upload(token, files)
        assert r.status_code == 200, r.text
    with FakeVision() as vision:
        run = system.worker("--once", env={"GOOGLE_VISION_API_KEY": "e2e-key",
                                           "GOOGLE_VISION_ENDPOINT": vision.google_endpoint})
        assert run.returncode == 0, run.stderr[-3000:]
        calls = len(vision.requests)
    rows = system.media_rows()
    assert {r["status"] for r in rows} == {"done"}, rows
    by_name: dict[str, dict] = {}
    for row in rows:
        owner = "bea" if row["user_id"] != rows[0]["user_id"] else "ada"
        by_name[f"{owner}/{row['original_name']}"] = row
    return {"ada": ada, "bea": bea, "rows": by_name, "provider_calls": calls}


def analysis(system, media_id):
    r = requests.get(f"{system.api_url}/api/media/analysis/{media_id}",
                     headers={"Authorization": f"Bearer {system.key}"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["analysis"]


def similar(system, token, media_id, **params):
    return requests.get(f"{system.api_url}/api/media/similar/{media_id}", params=params,
                        headers={"Authorization": f"Token {token}"}, timeout=30)


def test_the_main_api_returns_the_full_analysis(system, uploaded):
    result = analysis(system, uploaded["rows"]["ada/photo.jpg"]["media_id"])
    assert set(result) >= set(ANALYSIS_FIELDS) | set(ANALYSIS_LOCAL_FIELDS)
    assert result["width"] == 1600 and result["subject_matter"]["label"] == "photo"
    assert 5 <= len(result["dominant_colors"]) <= 8
    assert result["duplicate_of"] is None


def test_a_near_copy_is_flagged_as_a_duplicate_of_the_first(system, uploaded):
    rows = uploaded["rows"]
    copy = analysis(system, rows["ada/copy.jpg"]["media_id"])
    assert copy["duplicate_of"] == rows["ada/photo.jpg"]["media_id"]
    assert copy["duplicate_distance"] <= 6 and copy["duplicate_exact"] is False
    # the same bytes from another user are nobody's duplicate
    assert analysis(system, rows["bea/photo.jpg"]["media_id"])["duplicate_of"] is None


def test_similar_finds_the_copy_and_not_the_others(system, uploaded):
    rows = uploaded["rows"]
    r = similar(system, uploaded["ada"], rows["ada/photo.jpg"]["media_id"])
    assert r.status_code == 200, r.text
    found = [x["media_id"] for x in r.json()["results"]]
    assert found == [rows["ada/copy.jpg"]["media_id"]]
    assert r.json()["results"][0]["similarity"] > 0.97
    # a picture unlike any other of Ada's has no similar image
    r = similar(system, uploaded["ada"], rows["ada/astronaut.jpg"]["media_id"])
    assert r.status_code == 200 and r.json()["results"] == []
    # Bea may not ask about Ada's image
    assert similar(system, uploaded["bea"], rows["ada/photo.jpg"]["media_id"]).status_code == 404


def test_faces_logo_and_text(system, uploaded):
    rows = uploaded["rows"]
    astronaut = analysis(system, rows["ada/astronaut.jpg"]["media_id"])
    assert [o["label"] for o in astronaut["detected_objects"]].count("face") == 1
    logo = analysis(system, rows["ada/logo.png"]["media_id"])
    assert logo["background_removed"] is True and logo["subject_matter"]["label"] == "logo"
    assert {c["name"] for c in logo["brand_colors"][:2]} >= {"firebrick"}  # its red, (210, 30, 30)
    removed = requests.get(f"{system.vm_url}/serve/{rows['ada/logo.png']['media_id']}",
                           params={"size": "thumbnail", "format": "png", "bg": "removed"}, timeout=30)
    assert removed.status_code == 200
    image = pyvips.Image.new_from_buffer(removed.content, "")
    assert image.hasalpha() and image[3].min() == 0  # a transparent background
    page = analysis(system, rows["ada/page.png"]["media_id"])
    if OCR_EXPECTED:
        assert page["detected_text"].splitlines() == list(PAGE_LINES)
    else:
        assert page["detected_text"] is None and page["detected_text_status"] == "tesseract not installed"


def test_the_vision_provider_was_asked_and_kept(system, uploaded):
    assert uploaded["provider_calls"] == len(uploaded["rows"])
    result = analysis(system, uploaded["rows"]["ada/astronaut.jpg"]["media_id"])
    assert result["providers"]["google_vision"]["status"] == "ok"
    assert [label["label"] for label in result["labels"]] == ["Pattern", "Art"]
    from sqlalchemy import select

    from media_vm.db import media_ai_analysis

    with system.engine.connect() as conn:
        raws = conn.execute(select(media_ai_analysis.c.raw_google_response)).scalars().all()
    assert raws and all(raw == GOOGLE_ANSWER for raw in raws)
