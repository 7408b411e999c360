"""Colour names: the nearest CSS named colour by CIEDE2000, checked against scikit-image's
independent CIEDE2000 and Lab conversion."""

from __future__ import annotations

import numpy as np
import pytest
import webcolors
from skimage.color import deltaE_ciede2000, rgb2lab

from media_vm.imaging.dominant_colours import colour_name, css_named_colours, srgb_to_lab

#: (hex, the CSS name it should get, why): the first four were misnamed by the old basic table
#: ("maroon", "violet", "teal", "dark grey").
KNOWN = [
    ("#dc273b", "crimson", "crimson is #dc143c; was 'maroon'"),
    ("#1e59c7", "royalblue", "royalblue is #4169e1; was 'violet'"),
    ("#336834", "darkgreen", "darkgreen #006400 (dE00 7.7) just ahead of darkolivegreen (7.8); was 'teal'"),
    ("#526135", "darkolivegreen", "darkolivegreen is #556b2f; was 'dark grey'"),
    ("#ff0000", "red", "exact"),
    ("#ffffff", "white", "exact"),
    ("#000000", "black", "exact"),
    ("#808080", "gray", "exact (gray and grey are one value; webcolors names it gray)"),
    ("#663399", "rebeccapurple", "exact: the CSS Color 4 addition"),
    ("#f5f5dc", "beige", "exact"),
    ("#87ceeb", "skyblue", "exact"),
    ("#fe0101", "red", "near red"),
    ("#ff8c00", "darkorange", "exact"),
    ("#7f0000", "maroon", "near maroon #800000"),
    ("#fafafa", "white", "a near white"),
    ("#123456", "midnightblue", "a dark blue (midnightblue is #191970)"),
]


def hex_lab(hex_colour: str) -> np.ndarray:
    return srgb_to_lab(np.array([tuple(webcolors.hex_to_rgb(hex_colour))], dtype=np.uint8))[0]


def skimage_nearest(hex_colour: str) -> tuple[str, float]:
    names, _ = css_named_colours()
    hexes = [webcolors.name_to_hex(n) if n != "rebeccapurple" else "#663399" for n in names]
    reference = rgb2lab(np.array([webcolors.hex_to_rgb(h) for h in hexes], dtype=float).reshape(1, -1, 3) / 255)[0]
    lab = rgb2lab(np.array(webcolors.hex_to_rgb(hex_colour), dtype=float).reshape(1, 1, 3) / 255)[0, 0]
    distances = deltaE_ciede2000(np.broadcast_to(lab, reference.shape), reference)
    return names[int(np.argmin(distances))], float(distances.min())


def test_the_list_is_the_css_named_colours():
    names, lab = css_named_colours()
    assert len(names) == len(set(names)) == lab.width == 139  # 148 names, 9 of them aliases
    assert {"crimson", "royalblue", "rebeccapurple", "darkolivegreen", "gray"} <= set(names)
    every = set(webcolors.names(webcolors.CSS3)) | {"rebeccapurple"}
    assert len(every) == 148 and set(names) <= every
    # each left-out name is an alias: its value is in the list under another name
    values = {webcolors.name_to_hex(n) for n in names if n != "rebeccapurple"}
    assert {webcolors.name_to_hex(n) for n in every - set(names)} <= values


@pytest.mark.parametrize(("hex_colour", "expected", "why"), KNOWN, ids=[k[0] for k in KNOWN])
def test_known_colours(hex_colour, expected, why):
    assert colour_name(hex_lab(hex_colour)) == expected, why
    assert skimage_nearest(hex_colour)[0] == expected  # the table itself, by another implementation


def test_agrees_with_scikit_image_on_random_colours():
    rng = np.random.default_rng(14)
    for rgb in rng.integers(0, 256, size=(200, 3)):
        hex_colour = "#{:02x}{:02x}{:02x}".format(*rgb)
        assert colour_name(hex_lab(hex_colour)) == skimage_nearest(hex_colour)[0], hex_colour
