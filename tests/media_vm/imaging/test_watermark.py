"""The artwork watermark: drawn in the bottom-right corner only, sized by the image, legible
(Tesseract reads it back) on light and dark art, markup shown literally, alpha kept; and an
artwork's variants: icon, thumbnail and display, the display marked in every format."""

from __future__ import annotations

import numpy as np
import pytest
import pyvips

from media_vm.imaging.variants import make_variants
from media_vm.imaging.watermark import MIN_FONT_PX, apply_watermark, pango_escape
from tests.helpers.images import photo_jpeg, photo_like
from tests.helpers.watermark import corner_and_rest, read_mark


def art(width: int, height: int, tone: str) -> pyvips.Image:
    """A photo-like picture squeezed into a light (190-254) or dark (5-69) range."""
    offset = {"light": 190, "dark": 5, "mid": None}[tone]
    image = photo_like(width, height, seed=3)
    if offset is not None:
        image = image.linear(0.25, offset)
    return image.cast("uchar").copy(interpretation="srgb")


def changed_box(marked: pyvips.Image, plain: pyvips.Image) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the pixels the mark changed (right, bottom exclusive)."""
    changed = np.abs(marked.numpy().astype(int) - plain.numpy().astype(int)).max(axis=2) > 0
    rows, cols = np.nonzero(changed)
    return int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1


@pytest.mark.parametrize("tone", ["light", "dark"])
def test_the_mark_changes_only_the_bottom_right_corner_and_reads_back(tone):
    plain = art(900, 600, tone)
    marked = apply_watermark(plain, "painter_ana")
    assert (marked.width, marked.height, marked.bands, marked.format) == (900, 600, 3, "uchar")
    corner, rest = corner_and_rest(marked, plain)
    assert corner > 3 and rest == 0, (corner, rest)
    left, top, right, bottom = changed_box(marked, plain)
    assert left > 900 / 2 and top > 600 * 0.8, "in the bottom-right corner"
    assert right < 900 and bottom < 600, "with a margin"
    assert read_mark(marked, plain) == "painter_ana"


def test_pango_markup_in_the_text_is_shown_not_interpreted():
    assert pango_escape("<b>Ana & Bo</b>") == "&lt;b&gt;Ana &amp; Bo&lt;/b&gt;"
    assert pango_escape(" x\x00\x07y ") == "xy"
    plain = art(900, 600, "mid")
    assert "Ana & Bo</b>" in read_mark(apply_watermark(plain, "<b>Ana & Bo</b>"), plain)
    # the same letters as a literal text, not bold markup around a shorter one
    tags = changed_box(apply_watermark(plain, "<b>Ana & Bo</b>"), plain)
    bare = changed_box(apply_watermark(plain, "Ana & Bo"), plain)
    assert tags[2] - tags[0] > 1.5 * (bare[2] - bare[0])


def test_the_text_height_follows_the_shorter_side_with_a_legible_minimum():
    heights = {}
    for width, height in ((1200, 900), (600, 450), (400, 320), (240, 180)):
        plain = art(width, height, "mid")
        left, top, right, bottom = changed_box(apply_watermark(plain, "Ana"), plain)
        heights[height] = bottom - top
    assert 1.7 < heights[900] / heights[450] < 2.3, heights
    # 5% of 320 px is the minimum: a smaller image gets the same size, ink ~3/4 of the font size
    assert heights[180] == heights[320] >= 0.7 * MIN_FONT_PX, heights
    plain = art(240, 180, "mid")
    assert read_mark(apply_watermark(plain, "painter_ana"), plain) == "painter_ana"


def test_a_long_text_stays_inside_the_image():
    plain = art(400, 300, "mid")
    left, top, right, bottom = changed_box(apply_watermark(plain, "a_very_long_username_of_forty_letters_x"), plain)
    assert left > 0 and right < 400 and top > 0 and bottom < 300


def test_alpha_is_kept_and_a_transparent_corner_still_shows_the_mark():
    rgb = art(400, 300, "mid")
    alpha = pyvips.Image.black(400, 300).draw_rect(255, 0, 0, 200, 300, fill=True)  # right half transparent
    plain = rgb.bandjoin(alpha).cast("uchar").copy(interpretation="srgb")
    marked = apply_watermark(plain, "Ana")
    assert (marked.bands, marked.format) == (4, "uchar")
    before, after = plain.numpy(), marked.numpy()
    left, top, right, bottom = changed_box(marked, plain)
    outside = np.ones(before.shape[:2], dtype=bool)
    outside[top:bottom, left:right] = False
    assert (before[outside] == after[outside]).all()
    assert after[top:bottom, left:right, 3].max() > 200, "the mark is opaque where the art is not"


@pytest.mark.parametrize("text", [None, "", "  ", "\x00"])
def test_no_text_no_mark(text):
    plain = art(300, 200, "mid")
    assert apply_watermark(plain, text) is plain


#: Lossy AVIF at a display's size softens an underscore into a space for Tesseract: the names
#: read back through the encoders are letters and digits.
def test_an_artwork_is_made_in_icon_thumbnail_and_display_the_display_marked_in_every_format(tmp_path):
    source = photo_jpeg(tmp_path / "art.jpg", 1500, 1000, quality=92, seed=5)
    marked = make_variants(source, tmp_path / "marked", stem="a1", data_type="artwork", watermark="PainterAna42")
    plain = make_variants(source, tmp_path / "plain", stem="a1", data_type="artwork")
    assert [(v.size, v.format) for v in marked] == [(v.size, v.format) for v in plain] == [
        (size, fmt) for size in ("icon", "thumbnail", "display") for fmt in ("avif", "webp", "jpeg")]
    dims = {v.size: (v.width, v.height) for v in marked}
    assert dims == {"icon": (128, 128), "thumbnail": (300, 300), "display": (1200, 800)}
    for m, p in zip(marked, plain, strict=True):
        got, expected = pyvips.Image.new_from_file(str(m.path)), pyvips.Image.new_from_file(str(p.path))
        assert (got.width, got.height) == (m.width, m.height)
        corner, rest = corner_and_rest(got, expected)
        if m.size == "display":
            assert corner > 3 and rest < min(2.0, corner / 4), (m.format, corner, rest)  # lossy: near
            assert "PainterAna42" in read_mark(got, expected), m.format
        else:
            assert corner == rest == 0, f"{m.size} {m.format} is never marked"


def test_a_small_artwork_is_not_enlarged_and_still_marked(tmp_path):
    source = photo_jpeg(tmp_path / "small.jpg", 500, 350, seed=6)
    [display] = [v for v in make_variants(source, tmp_path / "out", stem="s1", data_type="artwork",
                                          watermark="PainterAna42") if v.size == "display" and v.format == "webp"]
    assert (display.width, display.height) == (500, 350)
    [plain] = [v for v in make_variants(source, tmp_path / "plain", stem="s1", data_type="artwork")
               if v.size == "display" and v.format == "webp"]
    got, expected = (pyvips.Image.new_from_file(str(v.path)) for v in (display, plain))
    assert "PainterAna42" in read_mark(got, expected)  # (a stray mark of lossy WebP may come along)


def test_other_data_types_keep_the_six_sizes_and_no_mark(tmp_path):
    source = photo_jpeg(tmp_path / "p.jpg", 640, 480, seed=7)
    made = make_variants(source, tmp_path / "out", stem="p1", data_type="product", watermark="PainterAna42")
    assert [v.size for v in made if v.format == "jpeg"] == ["thumbnail", "grid", "small", "detail", "header", "zoom"]


def test_an_artworks_preset_outputs_carry_the_watermark_too(tmp_path):
    """An artwork whose upload named a tool also gets that tool's outputs: public, and larger than
    a grid tile, so they are marked as its display is."""
    import pyvips

    from media_vm.imaging import make_variants
    from shared.sizes import sizes_for
    from tests.helpers.images import photo_jpeg
    from tests.helpers.watermark import corner_and_rest, read_mark

    source = photo_jpeg(tmp_path / "art.jpg", 2400, 1600, seed=5)
    outputs = sizes_for("artwork", "sora")
    marked = {v.size: v for v in make_variants(source, tmp_path / "m", stem="m", data_type="artwork", sizes=outputs,
                                               watermark="PainterAna42")}
    plain = {v.size: v for v in make_variants(source, tmp_path / "p", stem="p", data_type="artwork", sizes=outputs)}
    for size in ("normal", "hq", "display"):
        got = pyvips.Image.new_from_file(str(marked[size].path))
        expected = pyvips.Image.new_from_file(str(plain[size].path))
        corner, rest = corner_and_rest(got, expected)
        assert corner > 3 and rest < min(3.0, corner / 3), (size, corner, rest)
        assert "painterana42" in read_mark(got, expected).replace(" ", "").lower(), size
    thumb = pyvips.Image.new_from_file(str(marked["thumbnail"].path))
    unmarked = pyvips.Image.new_from_file(str(plain["thumbnail"].path))
    assert corner_and_rest(thumb, unmarked)[0] < 1, "grid tiles stay clean"
