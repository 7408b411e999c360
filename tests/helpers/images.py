"""Test images generated on the fly with pyvips: real files, decoded and measured by the tests.

Each generator writes one file and returns its path (and, where a test needs it, what the
picture looks like). Nothing here is random across runs: noise is seeded.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvips

#: Corner colours of the upright orientation test picture (top-left is the red block).
CORNER_COLOURS: dict[str, tuple[int, int, int]] = {
    "top_left": (220, 30, 30),
    "top_right": (30, 180, 40),
    "bottom_left": (30, 60, 220),
    "bottom_right": (240, 220, 40),
}
ORIENTATION_BACKGROUND = (128, 128, 128)


def photo_like(width: int, height: int, *, seed: int = 1) -> pyvips.Image:
    """An sRGB picture with what a photo has: smooth gradients, shapes with edges, fine noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    xn, yn = x / max(1, width - 1), y / max(1, height - 1)
    rgb = np.stack(
        [
            60 + 150 * xn + 20 * np.sin(yn * 9.0),
            50 + 120 * yn + 30 * np.cos(xn * 7.0 + yn * 3.0),
            170 - 110 * xn * yn + 25 * np.sin((xn + yn) * 13.0),
        ],
        axis=2,
    )
    image = pyvips.Image.new_from_array(rgb.astype(np.float32)).copy(interpretation="srgb")
    for _ in range(14):  # a few objects at various scales
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(max(2, min(width, height) // 40), max(3, min(width, height) // 6)))
        colour = [float(v) for v in rng.integers(0, 256, 3)]
        if rng.random() < 0.5:
            image = image.draw_circle(colour, cx, cy, r, fill=True)
        else:
            image = image.draw_rect(colour, cx - r, cy - r // 2, 2 * r, r, fill=True)
    # texture: fine grain plus softer mottling, like sensor noise and surface detail
    grain = pyvips.Image.gaussnoise(width, height, sigma=6, mean=0, seed=seed)
    mottle = pyvips.Image.gaussnoise(width, height, sigma=30, mean=0, seed=seed + 1).gaussblur(3)
    image = image + grain + mottle
    return image.cast("uchar").copy(interpretation="srgb")


def photo_jpeg(path: Path, width: int = 800, height: int = 600, *, quality: int = 90, seed: int = 1) -> Path:
    """A photo-like JPEG (see :func:`photo_like`)."""
    photo_like(width, height, seed=seed).jpegsave(str(path), Q=quality)
    return path


def upright_orientation_picture(width: int = 160, height: int = 100) -> np.ndarray:
    """The upright reference for orientation tests: grey with a distinct colour block in each
    corner (red top-left), so every one of the 8 EXIF transforms gives a different layout."""
    picture = np.empty((height, width, 3), dtype=np.uint8)
    picture[:] = ORIENTATION_BACKGROUND
    bw, bh = width // 4, height // 4
    picture[:bh, :bw] = CORNER_COLOURS["top_left"]
    picture[:bh, -bw:] = CORNER_COLOURS["top_right"]
    picture[-bh:, :bw] = CORNER_COLOURS["bottom_left"]
    picture[-bh:, -bw:] = CORNER_COLOURS["bottom_right"]
    return picture


def stored_for_orientation(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels a camera stores so that a viewer applying EXIF ``orientation`` shows ``upright``.

    The EXIF meaning of each value is what the viewer does to the stored pixels: 2 mirror,
    3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90
    anticlockwise. Stored is the inverse of that applied to the upright picture.
    """
    inverse = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1, :],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, k=1),  # undo a clockwise turn: turn anticlockwise
        7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
        8: lambda a: np.rot90(a, k=-1),
    }
    return np.ascontiguousarray(inverse[orientation](upright))


def oriented_jpeg(path: Path, orientation: int, *, width: int = 160, height: int = 100) -> Path:
    """A JPEG whose EXIF ``orientation`` (1-8) turns its stored pixels into
    :func:`upright_orientation_picture` (``width`` x ``height`` when upright)."""
    stored = stored_for_orientation(upright_orientation_picture(width, height), orientation)
    image = pyvips.Image.new_from_array(stored).copy(interpretation="srgb")
    image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    image.jpegsave(str(path), Q=95, subsample_mode="off")
    return path


def rgba_png(path: Path, width: int = 200, height: int = 150) -> Path:
    """A PNG with real transparency: transparent margin, an opaque disc, a half-transparent band."""
    alpha = np.zeros((height, width), dtype=np.uint8)
    y, x = np.mgrid[0:height, 0:width]
    alpha[(x - width / 2) ** 2 + (y - height / 2) ** 2 < (min(width, height) / 3) ** 2] = 255
    alpha[: height // 6, :] = 128
    rgb = photo_like(width, height).numpy()
    image = pyvips.Image.new_from_array(np.dstack([rgb, alpha])).copy(interpretation="srgb")
    image.pngsave(str(path))
    return path


@dataclass(frozen=True)
class LogoGeometry:
    """Where things are in :func:`logo`: (x, y) points at the original size."""

    corner: tuple[int, int]  #: background touching the border -> removed
    ring: tuple[int, int]  #: on the blue ring -> kept
    ring_hole: tuple[int, int]  #: white, enclosed by the ring -> kept (not connected to the border)
    cup: tuple[int, int]  #: on the red U -> kept
    cup_inside: tuple[int, int]  #: white inside the U, open to the top edge -> removed


def logo(path: Path, width: int = 400, height: int = 240, *, quality: int | None = None) -> LogoGeometry:
    """A logo on flat white: a blue ring (its hole is enclosed) and a red U whose inside opens
    upward into the background. PNG unless ``path`` ends in .jpg (saved at ``quality``)."""
    image = pyvips.Image.black(width, height, bands=3).new_from_image([255, 255, 255]).copy(interpretation="srgb")
    rcx, rcy = width // 4, height // 2
    outer, inner = height // 3, height // 6
    image = image.draw_circle([20, 60, 200], rcx, rcy, outer, fill=True)
    image = image.draw_circle([255, 255, 255], rcx, rcy, inner, fill=True)
    # U: two uprights and a base; the gap between the uprights opens to the top
    ux0, ux1 = width // 2 + 20, width - 40
    top, bottom = height // 5, height - height // 5
    wall = (ux1 - ux0) // 4
    image = image.draw_rect([210, 30, 30], ux0, top, wall, bottom - top, fill=True)
    image = image.draw_rect([210, 30, 30], ux1 - wall, top, wall, bottom - top, fill=True)
    image = image.draw_rect([210, 30, 30], ux0, bottom - wall, ux1 - ux0, wall, fill=True)
    if str(path).endswith(".jpg"):
        image.jpegsave(str(path), Q=quality or 90)
    else:
        image.pngsave(str(path))
    return LogoGeometry(
        corner=(3, 3),
        ring=(rcx + (outer + inner) // 2, rcy),
        ring_hole=(rcx, rcy),
        cup=(ux0 + wall // 2, (top + bottom) // 2),
        cup_inside=((ux0 + ux1) // 2, (top + bottom) // 2),
    )


def pixel_bomb_png(path: Path, side: int = 20000) -> Path:
    """A valid 1-bit greyscale PNG of ``side`` x ``side`` pixels that is tiny on disk.

    Written by hand (zlib streaming one repeated row), so making it costs milliseconds and
    no 400 MP image ever exists in memory.
    """
    row = b"\x00" + b"\x00" * ((side + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


def truncated_jpeg(path: Path, *, keep: float = 0.5, width: int = 400, height: int = 300) -> Path:
    """A photo-like JPEG cut after ``keep`` of its bytes (the header survives, the scan does not)."""
    data = bytes(photo_like(width, height).jpegsave_buffer(Q=90))
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def animated_gif(path: Path, width: int = 120, height: int = 90, frames: int = 3) -> Path:
    """A GIF with ``frames`` frames of ``width`` x ``height``: red, then green, then blue..."""
    colours = [(230, 20, 20), (20, 230, 20), (20, 20, 230), (230, 230, 20)]
    pages = [
        pyvips.Image.black(width, height, bands=3).new_from_image(list(colours[i % len(colours)]))
        for i in range(frames)
    ]
    strip = pyvips.Image.arrayjoin(pages, across=1).copy(interpretation="srgb")
    strip.set_type(pyvips.GValue.gint_type, "page-height", height)
    strip.set_type(pyvips.GValue.array_int_type, "delay", [100] * frames)
    strip.gifsave(str(path))
    return path


def solid_png(path: Path, colour: tuple[int, int, int], width: int = 64, height: int = 64) -> Path:
    """A single-colour PNG."""
    pyvips.Image.black(width, height, bands=3).new_from_image(list(colour)).copy(interpretation="srgb").cast(
        "uchar"
    ).pngsave(str(path))
    return path


def matrix_file(path: Path) -> Path:
    """A libvips matrix text file: content a loader outside the allowlist would accept."""
    path.write_text("3 2\n0 1 2\n3 4 5\n")
    return path


def svg_file(path: Path) -> Path:
    """A small SVG (vector input must never be rendered)."""
    path.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>'
    )
    return path


def colour_variants(directory: Path) -> dict[str, Path]:
    """The same photo as CMYK, 16-bit, greyscale (with and without a grey ICC profile), 1-bit,
    palette and grey + alpha files."""
    base = photo_like(160, 120)
    out = {
        "cmyk.jpg": lambda p: base.colourspace("cmyk").jpegsave(p),
        "rgb16.png": lambda p: base.colourspace("rgb16").pngsave(p),
        "grey16.png": lambda p: base.colourspace("grey16").pngsave(p),
        "grey.jpg": lambda p: base.colourspace("b-w").jpegsave(p),
        "grey_profile.jpg": lambda p: base.colourspace("b-w").icc_transform("sgrey").jpegsave(p),
        "1bit.png": lambda p: (base.colourspace("b-w") > 128).pngsave(p, bitdepth=1),
        "palette.png": lambda p: base.pngsave(p, palette=True),
        "grey_alpha.png": lambda p: base.colourspace("b-w").bandjoin(200).pngsave(p),
    }
    paths = {}
    for name, save in out.items():
        paths[name] = directory / name
        save(str(paths[name]))
    return paths


def read(path: Path) -> pyvips.Image:
    """Decode a file as a test oracle would: plain pyvips, whole image, every field kept."""
    return pyvips.Image.new_from_file(str(path))


def region_mean(image: pyvips.Image, x: int, y: int, w: int, h: int) -> np.ndarray:
    """Mean of each band over a rectangle of ``image``."""
    return np.asarray(image.crop(x, y, w, h).numpy(), dtype=np.float64).reshape(-1, image.bands).mean(axis=0)
