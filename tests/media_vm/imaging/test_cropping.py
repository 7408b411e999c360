"""Subject-aware crops: faces first, then the attention point, measured on the written files."""

from __future__ import annotations

import pytest

from media_vm.imaging import analyse_file, crop_focus, make_variants, open_image
from media_vm.imaging.faces import detect_faces
from media_vm.imaging.sizing import crop_window
from tests.helpers.images import tall_portrait


@pytest.mark.parametrize(
    ("covered", "target", "focus", "expected"),
    [
        # a point focus: the window centres on it, clamped inside the image
        ((300, 800), (300, 300), (0.5, 0.5, 0.0, 0.0), (0, 250)),
        ((300, 800), (300, 300), (0.5, 0.95, 0.0, 0.0), (0, 500)),
        ((300, 800), (300, 300), (0.5, 0.0, 0.0, 0.0), (0, 0)),
        # a box that fits is kept whole: centred on it
        ((1000, 300), (300, 300), (0.8, 0.1, 0.1, 0.5), (700, 0)),
        # a box larger than the window: centred on it
        ((300, 1000), (300, 100), (0.0, 0.4, 1.0, 0.2), (0, 450)),
    ],
)
def test_crop_window(covered, target, focus, expected):
    assert crop_window(covered, target, focus) == expected


def test_crop_window_keeps_a_box_that_fits_even_off_centre():
    left, top = crop_window((2000, 600), (600, 600), (0.0, 0.2, 0.25, 0.5))  # box at x 0-500
    assert left == 0 and top == 0


def test_crop_window_rejects_a_window_larger_than_the_image():
    with pytest.raises(ValueError):
        crop_window((100, 100), (200, 100), (0.5, 0.5, 0, 0))


def test_crop_focus_prefers_faces_then_attention():
    salient = {"label": "salient region", "box": {"x": 0.5, "y": 0.5, "w": 0.5, "h": 0.5},
               "centre": {"x": 0.7, "y": 0.6}}
    face = {"label": "face", "box": {"x": 0.1, "y": 0.2, "w": 0.1, "h": 0.1}}
    other = {"label": "face", "box": {"x": 0.3, "y": 0.1, "w": 0.1, "h": 0.1}}
    assert crop_focus({"detected_objects": [salient, face]}) == pytest.approx((0.1, 0.2, 0.1, 0.1))
    assert crop_focus({"detected_objects": [salient, face, other]}) == pytest.approx((0.1, 0.1, 0.3, 0.2))
    assert crop_focus({"detected_objects": [salient]}) == (0.7, 0.6, 0.0, 0.0)
    assert crop_focus({"detected_objects": []}) is None
    assert crop_focus(None) is None
    assert crop_focus({"detected_objects": [{"label": "face", "box": {"x": "junk"}}]}) is None


def test_a_portrait_thumbnail_keeps_the_face(tmp_path):
    """A tall portrait with the face low down: the square crops and the header, cut around
    the face the analysis found, each still show a face that the cascade finds again."""
    path, (fx, fy, fw, fh) = tall_portrait(tmp_path / "portrait.jpg")
    analysis = analyse_file(path, data_type="profile")
    focus = crop_focus(analysis)
    assert focus is not None
    height = 1412
    assert abs(focus[1] - fy / height) < 0.02 and abs(focus[3] - fh / height) < 0.02
    variants = make_variants(path, tmp_path / "out", stem="p", data_type="profile", focus=focus)
    for size in ("thumbnail", "grid", "header"):
        jpeg = next(v for v in variants if v.size == size and v.format == "jpeg")
        image = open_image(jpeg.path)
        faces = detect_faces(image)
        assert faces, f"{size}: no face in the crop"



def test_the_focus_measured_for_the_thumbnail_is_the_analysis_focus(tmp_path):
    """``measure_focus`` (run before the analysis, so the thumbnail comes first) finds what the
    full analysis finds: the thumbnail is cut like every other size."""
    from media_vm.imaging import measure_focus

    path, _ = tall_portrait(tmp_path / "portrait.jpg")
    focus = measure_focus(path)
    assert focus is not None and focus[2] > 0, "a face box, not the attention point"
    assert focus == crop_focus(analyse_file(path, data_type="profile"))


def test_the_thumbnail_alone_matches_the_full_set(tmp_path):
    """``sizes=(thumbnail,)`` makes only the thumbnail set, pixel-identical in size to the one
    the full call makes, and a later call for the other sizes makes none of it again."""
    from shared.sizes import SIZES, SIZES_BY_NAME

    path, _ = tall_portrait(tmp_path / "portrait.jpg")
    thumb = make_variants(path, tmp_path / "a", stem="p", data_type="profile", sizes=(SIZES_BY_NAME["thumbnail"],))
    assert {(v.size, v.bg) for v in thumb} == {("thumbnail", "original")}
    rest = make_variants(path, tmp_path / "a", stem="p", data_type="profile",
                         sizes=tuple(s for s in SIZES if s.name != "thumbnail"))
    assert "thumbnail" not in {v.size for v in rest} and len({v.size for v in rest}) == len(SIZES) - 1
    full = make_variants(path, tmp_path / "b", stem="p", data_type="profile")
    assert {(v.format, v.width, v.height) for v in thumb} == {
        (v.format, v.width, v.height) for v in full if v.size == "thumbnail"}
