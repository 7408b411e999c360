"""Pictures with known contents for the analysis tests: a printed page, a real face, a portrait.

The face is the astronaut photo that scikit-image ships inside its wheel
(``skimage.data.astronaut()``, NASA, public domain): Haar cascades need a real face, and no
generated one is honest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyvips

PAGE_LINES = ("Invoice number 4711", "Open Art Festival", "Tickets on sale now", "Saturday the twelfth of July")

#: Where the astronaut's face is in the 512x512 original (x, y, w, h), found by the frontal
#: face cascade and checked by eye.
ASTRONAUT_FACE = (177, 66, 95, 95)


def text_page(path: Path, width: int = 1200, height: int = 1600) -> Path:
    """Dark text (Pillow's bundled font, 44 px) on off-white paper."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("RGB", (width, height), (250, 250, 245))
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=44)
    for i, line in enumerate(PAGE_LINES):
        draw.text((90, 150 + i * 110), line, fill=(20, 20, 30), font=font)
    page.save(path)
    return path


def astronaut() -> pyvips.Image:
    from skimage import data

    return pyvips.Image.new_from_array(np.ascontiguousarray(data.astronaut())).copy(interpretation="srgb")


def astronaut_jpeg(path: Path, *, quality: int = 92) -> Path:
    astronaut().jpegsave(str(path), Q=quality)
    return path


def tall_portrait(path: Path) -> tuple[Path, tuple[int, int, int, int]]:
    """A 512x1412 portrait: grey striped wall above, the astronaut at the bottom. Returns the
    path and the face box in the portrait's pixels."""
    stripes = np.zeros((900, 512, 3), dtype=np.uint8)
    stripes[:] = (120, 120, 125)
    stripes[(np.arange(900) // 30) % 2 == 1] = (150, 150, 155)
    wall = pyvips.Image.new_from_array(stripes).copy(interpretation="srgb")
    wall.join(astronaut(), "vertical").jpegsave(str(path), Q=90)
    x, y, w, h = ASTRONAUT_FACE
    return path, (x, y + 900, w, h)
