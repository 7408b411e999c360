"""The owner's watermark: a line of text in the bottom-right corner of a finished variant.

An artwork's ``display`` size (``shared.sizes.WATERMARKED_SIZES``) carries the artist's
username, drawn here on the 8-bit sRGB pixels before any encoder sees them, so every format
made from the variant carries the same mark. The text is set with Pango
(``pyvips.Image.text``) in DejaVu Sans Bold (Debian's ``fonts-dejavu-core``): white, on a dark
halo (the text's own shape dilated and softened), so it reads on light and on dark art alike.

Every size below is in pixels of the variant, derived from its shorter side ``S``:

- font size (the em, Pango points at 72 dpi, so points = pixels): ``FONT_FRACTION * S``, at
  least ``MIN_FONT_PX``; a long text is made smaller to fit ``MAX_WIDTH_FRACTION`` of the
  width (never below ``MIN_FONT_PX``), and wraps (right-aligned, between words or else between
  letters) when it still does not fit;
- margin from the right and bottom edges: ``MARGIN_EMS`` ems;
- halo radius: ``HALO_EMS`` ems, at least 1 px.
"""

from __future__ import annotations

import html
import unicodedata
from pathlib import Path

import pyvips

from media_vm.exceptions import ImageProcessingError
from media_vm.imaging.loading import error_detail

#: The Pango family and face: a sans bold with wide, open letters that stays readable small.
FONT = "DejaVu Sans Bold"
#: Where Debian's ``fonts-dejavu-core`` puts that face; loaded from here when present, so the
#: mark never silently changes face with the host's fontconfig setup (else found by ``FONT``).
FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")

FONT_FRACTION = 0.05
"""Font size as a fraction of the variant's shorter side: the middle of the 4-6% asked for the
artwork feature. A 1200x900 display gets a 45 px font (a line ~52 px tall), present without
covering the art; a name of 10 letters then spans ~35% of the width."""

MIN_FONT_PX = 16
"""Smallest font size (px): the browsers' default body text size, which people read without
effort; it decides only for variants under 320 px on their shorter side (a small original's
display). The tests read the mark back with Tesseract at this size."""

MAX_WIDTH_FRACTION = 0.6
"""The mark's widest extent as a fraction of the variant's width: a long username is set
smaller (down to ``MIN_FONT_PX``) rather than run across the picture."""

MARGIN_EMS = 0.5
"""Gap between the text's box and the right and bottom edges, in ems (22 px at 45 px)."""

HALO_EMS = 1 / 12
"""Radius of the dark halo around the letters, in ems: about half of DejaVu Sans Bold's stroke
(~0.16 em), enough to separate white letters from a white background without a visible box."""

HALO_OPACITY = 0.75
"""Opacity of the black halo at its core (softened outwards by a blur of half its radius)."""

TEXT_OPACITY = 0.9
"""Opacity of the white letters: a tenth of the art shows through, so the mark reads as a mark."""


def pango_escape(text: str) -> str:
    """``text`` as Pango markup that shows it literally: ``&``, ``<`` and ``>`` escaped, control
    characters (never printable, and NUL ends a C string) dropped, surrounding space trimmed."""
    printable = "".join(ch for ch in text if unicodedata.category(ch) != "Cc")
    return html.escape(printable.strip(), quote=False)


def font_px(width: int, height: int) -> int:
    """The font size (px) of the mark on a ``width`` x ``height`` variant, before any fitting
    of a long text: ``FONT_FRACTION`` of the shorter side, at least ``MIN_FONT_PX``."""
    if width < 1 or height < 1:
        raise ValueError(f"dimensions must be positive, got {width}x{height}")
    return max(MIN_FONT_PX, round(FONT_FRACTION * min(width, height)))


def apply_watermark(image: pyvips.Image, text: str | None) -> pyvips.Image:
    """``image`` (8-bit sRGB, 3 bands, or 4 with alpha) with ``text`` drawn in its bottom-right
    corner (see the module docstring for the sizes); a new image of the same size, bands and
    format. ``text`` empty or None (or only spaces and control characters): ``image`` itself.

    ``text`` is shown literally: Pango markup in it (``<b>``, ``&amp;``) is escaped. Alpha is
    kept: outside the mark every pixel is untouched, under it the mark is composited *over*
    the art (a transparent corner gets an opaque mark, which is what makes it visible).

    Raises :class:`ImageProcessingError` when libvips or Pango fail.
    """
    markup = pango_escape(text or "")
    if not markup:
        return image
    if image.format != "uchar" or image.bands not in (3, 4):
        raise ValueError(f"expected 8-bit sRGB with optional alpha, got {image.bands} bands of {image.format}")
    try:
        return _draw(image, markup)
    except pyvips.Error as e:
        raise ImageProcessingError(f"watermark failed: {error_detail(e)}") from e


def _draw(image: pyvips.Image, markup: str) -> pyvips.Image:
    size = font_px(image.width, image.height)
    max_width = max(1, round(MAX_WIDTH_FRACTION * image.width))
    mask = _text_mask(markup, size)
    if mask.width > max_width:  # smaller, and wrapped if it has to be at the smallest size
        size = max(MIN_FONT_PX, int(size * max_width / mask.width))
        mask = _text_mask(markup, size, max_width)
    halo_px = max(1, round(HALO_EMS * size))
    margin = round(MARGIN_EMS * size)

    # the mark's patch: the text with room for its halo on every side
    mask = mask.embed(halo_px, halo_px, mask.width + 2 * halo_px, mask.height + 2 * halo_px)
    window = 2 * halo_px + 1
    halo = mask.rank(window, window, window * window - 1)  # a max filter: the letters dilated
    halo = halo.gaussblur(max(0.5, halo_px / 2), precision="integer")

    # the text's box ends ``margin`` from the right and bottom edges; the patch is clipped to
    # the image (only a long text wrapped onto more lines than a tiny variant is tall reaches
    # past its top)
    x = image.width - margin - mask.width + halo_px
    y = image.height - margin - mask.height + halo_px
    left, top = max(0, x), max(0, y)
    width = min(image.width, x + mask.width) - left
    height = min(image.height, y + mask.height) - top
    mask = mask.crop(left - x, top - y, width, height)
    halo = halo.crop(left - x, top - y, width, height)

    patch = image.crop(left, top, width, height)
    shadow = _solid(halo, (0, 0, 0), HALO_OPACITY)
    letters = _solid(mask, (255, 255, 255), TEXT_OPACITY)
    marked = patch.composite([shadow, letters], ["over", "over"], compositing_space="srgb")
    marked = marked.extract_band(0, n=image.bands).cast("uchar")
    # where neither layer has ink the pixel stays as it was (composite would zero the hidden
    # colour of a fully transparent one)
    marked = (halo > 0).ifthenelse(marked, patch).copy(interpretation="srgb")
    return image.insert(marked, left, top)


def _text_mask(markup: str, size: int, max_width: int | None = None) -> pyvips.Image:
    """The text's coverage (one uchar band, 255 = ink) at ``size`` px, as wide as its logical
    extent; with ``max_width``, wrapped to it and right-aligned."""
    options: dict[str, object] = {"font": f"{FONT} {size}", "dpi": 72}
    if max_width is not None:
        options.update(width=max_width, align="high", wrap="word-char")
    if FONT_FILE.is_file():
        options["fontfile"] = str(FONT_FILE)
    return pyvips.Image.text(markup, **options)


def _solid(coverage: pyvips.Image, rgb: tuple[int, int, int], opacity: float) -> pyvips.Image:
    """An RGBA layer of colour ``rgb`` whose alpha is ``coverage`` times ``opacity``."""
    colour = coverage.new_from_image(list(rgb)).copy(interpretation="srgb")
    return colour.bandjoin((coverage * opacity).cast("uchar"))
