"""Test images, the one picture factory of the suite: real files and bytes, decoded and measured
by the tests.

Each pyvips generator writes one file and returns its path (and, where a test needs it, what
the picture looks like); :func:`image_bytes` and its neighbours make encoded bytes with Pillow
for the upload tests, and hand-made malformed files (a pixel bomb, a HEIF skeleton); the
analysis pictures have known contents (a printed page, a real face, a portrait). Nothing here
is random across runs: noise is seeded.

The face is the astronaut photo that scikit-image ships inside its wheel
(``skimage.data.astronaut()``, NASA, public domain): Haar cascades need a real face, and no
generated one is honest.
"""

from __future__ import annotations

import io
import itertools
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvips
from PIL import Image

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


# --- device files: HEIC, CICP, PNG colour chunks, damaged-but-decodable PNGs -----------------


def heif_enc_available() -> bool:
    """True where Debian's ``heif-enc`` (package libheif-examples) is installed."""
    import shutil

    return shutil.which("heif-enc") is not None


def require_heif_enc() -> None:
    """Skip (fail under CI, where ``.ci/run`` installs it) when ``heif-enc`` is missing."""
    import os

    import pytest

    if heif_enc_available():
        return
    if os.environ.get("CI"):
        pytest.fail("heif-enc (libheif-examples) is missing and CI is set: .ci/run installs it")
    pytest.skip("heif-enc not installed (apt-get install libheif-examples; make test does it)")


def heif_enc(
    picture: pyvips.Image, path: Path, *, avif: bool = False, cicp: tuple[int, int] | None = None, quality: int = 92
) -> Path:
    """``picture`` (8-bit RGB) encoded by ``heif-enc``: HEIC (x265) or AVIF (aom), 4:4:4. With
    ``cicp`` = (primaries, transfer), the ``nclx`` box says those codes (ITU-T H.273): the
    picture's numbers are stored as they are, and ``cicp`` says what they mean.

    heif-enc 1.15 (Debian bookworm) ignores its own ``--colour_primaries`` options for PNG
    input, so the two codes are written into the ``colr`` box it made; the matrix code it
    encoded the YCbCr with is left as it is (the decoder needs it)."""
    import subprocess

    require_heif_enc()
    source = path.with_suffix(".src.png")
    picture.cast("uchar").copy(interpretation="srgb").pngsave(str(source))
    command = ["heif-enc", "-q", str(quality), "-p", "chroma=444", "-o", str(path)]
    if avif:
        command += ["-A", "-p", "speed=9"]
    subprocess.run([*command, str(source)], check=True, capture_output=True, timeout=120)
    source.unlink()
    if cicp is not None:
        data = bytearray(path.read_bytes())
        if b"colrnclx" not in data:
            raise ValueError("heif-enc wrote no nclx box (its HEIC has none): use heic_by_libheif_encoder")
        at = data.index(b"colrnclx") + 8
        data[at : at + 4] = struct.pack(">HH", *cicp)
        path.write_bytes(bytes(data))
    return path


def heic_by_libheif_encoder(
    picture: pyvips.Image, path: Path, *, cicp: tuple[int, int] | None = None, orientation: int = 1
) -> Path:
    """``picture`` as HEIC written through pillow-heif's encoder (libheif + x265), for what
    heif-enc 1.15 cannot write: an ``nclx`` box of (primaries, transfer) codes, matrix 1
    (BT.709), full range; or ``orientation`` (EXIF 1-8) turned into ``irot``/``imir``
    transforms by libheif (the EXIF orientation it keeps is reset to 1)."""
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()  # Image.save(format="HEIF") turns the orientation into irot
    image = Image.fromarray(np.ascontiguousarray(picture.cast("uchar").numpy()))
    options: dict[str, object] = {"quality": 92, "chroma": 444}
    if cicp is not None:
        options.update(color_primaries=cicp[0], transfer_characteristics=cicp[1], matrix_coefficients=1,
                       full_range_flag=1)
    if orientation != 1:
        exif = image.getexif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    image.save(path, format="HEIF", **options)
    return path


def heif_decoded_by_libheif(path: Path) -> np.ndarray:
    """An independent decode of a HEIF file: Debian's ``heif-convert`` (its own libheif and
    libde265, not the pillow-heif wheel the pipeline uses) to PNG, as an HxWx3 uint8 array."""
    import subprocess
    import tempfile

    require_heif_enc()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "decoded.png"
        subprocess.run(["heif-convert", str(path), str(out)], check=True, capture_output=True, timeout=120)
        image = pyvips.Image.new_from_file(str(out))
        return np.asarray(image.extract_band(0, n=3).numpy(), dtype=np.uint8)


def png_chunk(kind: bytes, body: bytes, *, crc: int | None = None) -> bytes:
    """One PNG chunk; ``crc`` overrides the right CRC (to damage it)."""
    right = zlib.crc32(kind + body)
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", right if crc is None else crc)


def png_with_chunks(path: Path, pixels: np.ndarray, chunks: list[bytes]) -> Path:
    """A PNG of ``pixels`` (HxWx3 or HxW uint8, or uint16) written by hand, with ``chunks``
    (made by :func:`png_chunk`) between IHDR and IDAT."""
    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    depth = 16 if pixels.dtype == np.uint16 else 8
    rows = pixels.astype(">u2" if depth == 16 else np.uint8).reshape(height, -1).view(np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)
    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    body = png_chunk(b"IHDR", header) + b"".join(chunks) + png_chunk(b"IDAT", zlib.compress(raw, 6))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body + png_chunk(b"IEND", b""))
    return path


def gama_chunk(gamma: float) -> bytes:
    """``gAMA`` with file gamma ``gamma`` (0.45455 for a 2.2 display curve, 1.0 for linear light)."""
    return png_chunk(b"gAMA", struct.pack(">I", round(gamma * 100_000)))


def chrm_chunk(primaries: tuple[tuple[float, float], ...]) -> bytes:
    """``cHRM`` from ((rx, ry), (gx, gy), (bx, by), (wx, wy))."""
    (rx, ry), (gx, gy), (bx, by), (wx, wy) = primaries
    return png_chunk(b"cHRM", struct.pack(">8I", *(round(v * 100_000) for v in (wx, wy, rx, ry, gx, gy, bx, by))))


def smooth_photo(width: int, height: int) -> np.ndarray:
    """:func:`photo_like` without its pixel-level grain, as HxWx3 uint8: what a phone's
    denoised photo is like. A variant's colour error against it is colour, not JPEG loss
    (the grain alone costs ~2.3 ΔE through JPEG q82 with 4:2:0)."""
    return np.asarray(photo_like(width, height).gaussblur(1.2).cast("uchar").numpy(), dtype=np.uint8)


def ancillary_crc_png(path: Path, width: int = 320, height: int = 240) -> Path:
    """A photo-like PNG whose ancillary ``pHYs`` chunk has a wrong CRC (its pixels intact):
    browsers and libvips decode it, Pillow refuses it."""
    phys = png_chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1), crc=0xDEADBEEF)
    return png_with_chunks(path, smooth_photo(width, height), [phys])


def big_xmp_png(path: Path, width: int = 320, height: int = 240, *, xmp_bytes: int = 6_000_000) -> Path:
    """A photo-like PNG carrying a compressed iTXt XMP packet of ``xmp_bytes`` (Photoshop writes
    its document history there): over Pillow's text-chunk limit, nothing to libvips."""
    rng = np.random.default_rng(3)
    entries = []
    size = 0
    while size < xmp_bytes:
        entry = f"<rdf:li stEvt:instanceID='xmp.iid:{rng.integers(1 << 62):016x}' stEvt:action='saved'/>"
        entries.append(entry)
        size += len(entry)
    xmp = ("<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:Seq>" + "".join(entries) + "</rdf:Seq></x:xmpmeta>").encode()
    itxt = png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + zlib.compress(xmp, 9))
    return png_with_chunks(path, smooth_photo(width, height), [itxt])


def numbered_jpeg(data: bytes, number: int) -> bytes:
    """The JPEG ``data`` with a comment segment (COM) carrying ``number`` right after its SOI
    marker: the same pixels in different bytes, so that a run of uploads of one photo is not
    taken for duplicates (the main API deduplicates each user's uploads by SHA-256)."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    text = f"upload {number}".encode()
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + data[2:]


# --- encoded bytes for the upload tests (Pillow) ---------------------------------------------

#: Pillow format name -> (extension the upload must get, mime type).
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
    "AVIF": ("avif", "image/avif"),
    "TIFF": ("tif", "image/tiff"),
}


_serials = itertools.count(1)


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), color=(200, 30, 90), *,
                serial: int | None = None) -> bytes:
    """An encoded image of ``size`` with a gradient, so it is not trivially compressible.

    Each call makes different bytes (a serial number is drawn into the bottom-right pixels),
    so that uploading it never counts as a duplicate of an earlier upload (the main API
    deduplicates by SHA-256); pass the same ``serial`` to make the same bytes twice."""
    im = Image.new("RGB", size, color)
    for x in range(0, size[0], 4):
        im.putpixel((x, x % size[1]), (x % 256, 255 - x % 256, 0))
    number = next(_serials) if serial is None else serial
    for bit in range(24):  # 24 pixels along the bottom row, black or white by the serial's bits
        x = size[0] - 1 - bit % size[0]
        y = size[1] - 1 - bit // size[0]
        im.putpixel((x, y), (255, 255, 255) if number >> bit & 1 else (0, 0, 0))
    buf = io.BytesIO()
    options = {"quality": 80} if fmt in ("JPEG", "WEBP", "AVIF") else {}
    if fmt == "AVIF":
        options["speed"] = 10
    im.save(buf, fmt, **options)
    return buf.getvalue()


def decoded_size(data: bytes) -> tuple[int, int]:
    """Width and height of an encoded image, decoded for real."""
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.size


def png_pixel_bomb(width: int = 40_000, height: int = 40_000) -> bytes:
    """A tiny, valid-looking PNG whose header claims ``width`` x ``height`` pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def heif_bytes(width: int = 640, height: int = 480, *, brand: bytes = b"heic") -> bytes:
    """An ISO-BMFF HEIF skeleton: ``ftyp``, ``meta/iprp/ipco/ispe`` and an ``mdat``.

    It carries no decodable HEVC data: the upload only checks the boxes and dimensions.
    """
    ftyp = _box(b"ftyp", brand + b"\x00\x00\x00\x00" + b"mif1" + brand)
    ispe = _box(b"ispe", b"\x00\x00\x00\x00" + struct.pack(">II", width, height))
    thumb = _box(b"ispe", b"\x00\x00\x00\x00" + struct.pack(">II", 32, 24))
    ipco = _box(b"ipco", thumb + ispe)
    iprp = _box(b"iprp", ipco)
    hdlr = _box(b"hdlr", b"\x00" * 8 + b"pict" + b"\x00" * 13)
    meta = _box(b"meta", b"\x00\x00\x00\x00" + hdlr + iprp)
    return ftyp + meta + _box(b"mdat", b"\x00" * 64)


# --- pictures with known contents for the analysis tests -------------------------------------

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


def avifenc_hdr(samples: np.ndarray, path: Path, *, cicp: tuple[int, int, int]) -> Path:
    """HxWx3 16-bit samples (already PQ- or HLG-encoded) as a 10-bit 4:4:4 full-range AVIF by
    libavif's ``avifenc`` whose ``nclx`` box says ``cicp`` = (primaries, transfer, matrix),
    e.g. (9, 16, 9) for BT.2020 PQ. avifenc 0.11 reads the 16-bit PNG's samples as they are
    (the PNG has no colour chunk) and scales them to 10 bits; near-lossless (quantizer 0-2)."""
    from tests.helpers.codec_tools import require_tool, run_tool

    avifenc = require_tool("avifenc")
    source = path.with_suffix(".src.png")
    pixels = np.ascontiguousarray(samples, dtype=np.uint16)
    pyvips.Image.new_from_array(pixels).copy(interpretation="rgb16").pngsave(str(source), keep="none")
    run_tool(avifenc, "-d", "10", "-y", "444", "-r", "full", "--cicp", "/".join(map(str, cicp)),
             "--min", "0", "--max", "2", "-s", "8", "--ignore-exif", "--ignore-xmp", "--ignore-icc",
             str(source), str(path))
    source.unlink()
    return path


def heic_hdr_by_libheif_encoder(samples: np.ndarray, path: Path, *, cicp: tuple[int, int, int]) -> Path:
    """HxWx3 16-bit samples (already PQ- or HLG-encoded) as a 10-bit 4:4:4 HEIC through
    pillow-heif's encoder (libheif + x265), ``nclx`` = ``cicp``, full range."""
    import pillow_heif

    pixels = np.ascontiguousarray(samples, dtype=np.uint16)
    heif = pillow_heif.from_bytes(mode="RGB;16", size=(pixels.shape[1], pixels.shape[0]), data=pixels.tobytes())
    heif.save(path, quality=95, chroma=444, color_primaries=cicp[0], transfer_characteristics=cicp[1],
              matrix_coefficients=cicp[2], full_range_flag=1)
    return path
