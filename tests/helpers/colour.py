"""Colour references for the tests, computed by another route than the pipeline's own code.

- :func:`delta_e76`: CIE 1976 ΔE*ab (Euclidean distance in CIELAB, D65 white), from 8-bit sRGB
  through the IEC 61966-2-1 curve and matrix, all written out here in numpy.
- :func:`p3_to_srgb_lcms`: Display P3 numbers converted to sRGB by littlecms (Pillow's
  ``ImageCms``) with the Display P3 ICC profile, relative colorimetric.
- :func:`gamma_to_srgb`, :func:`p3_gamma_to_srgb`: the PNG gAMA/cHRM maths written out with
  the published Display P3 -> sRGB matrix (not computed from chromaticities as the pipeline does).
"""

from __future__ import annotations

import io
import struct

import numpy as np
import pyvips

#: IEC 61966-2-1:1999 linear sRGB -> XYZ (D65), as the standard prints it.
SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
D65_XYZ = np.array([0.9505, 1.0, 1.0890])

#: Linear Display P3 -> linear sRGB, both D65 (the matrix published with CSS Color 4's sample code).
P3_TO_SRGB = np.array(
    [[1.2249401, -0.2249404, 0.0], [-0.0420569, 1.0420571, 0.0], [-0.0196376, -0.0786361, 1.0982735]]
)


def srgb_decode(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(np.asarray(linear, dtype=np.float64), 0, 1)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def srgb8_to_lab(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 8-bit sRGB -> CIELAB (CIE 15:2004, D65 white)."""
    xyz = srgb_decode(np.asarray(rgb, dtype=np.float64)[..., :3] / 255.0) @ SRGB_TO_XYZ.T
    t = xyz / D65_XYZ
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def delta_e76(a: np.ndarray, b: np.ndarray) -> float:
    """Mean CIE 1976 ΔE*ab between two same-size 8-bit sRGB pictures."""
    if a.shape[:2] != b.shape[:2]:
        raise ValueError(f"sizes differ: {a.shape} vs {b.shape}")
    return float(np.sqrt(((srgb8_to_lab(a) - srgb8_to_lab(b)) ** 2).sum(axis=-1)).mean())


def as_rgb(image: pyvips.Image) -> np.ndarray:
    """HxWx3 uint8 of a decoded image (alpha dropped, grey expanded)."""
    if image.hasalpha():
        image = image.extract_band(0, n=image.bands - 1)
    if image.bands == 1:
        image = image.bandjoin([image, image])
    return np.asarray(image.cast("uchar").numpy(), dtype=np.uint8)


def resized_to(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` (HxWx3 uint8) resized to ``width`` x ``height`` (to compare a variant with its scene)."""
    vimage = pyvips.Image.new_from_array(np.ascontiguousarray(image)).copy(interpretation="srgb")
    scaled = vimage.resize(width / vimage.width, vscale=height / vimage.height, kernel="linear")
    return np.asarray(scaled.cast("uchar").numpy(), dtype=np.uint8)


def p3_to_srgb_lcms(p3: np.ndarray) -> np.ndarray:
    """Display P3 numbers (HxWx3 uint8) -> sRGB by littlecms through Pillow's ImageCms."""
    from PIL import Image, ImageCms

    p3_profile = ImageCms.ImageCmsProfile(io.BytesIO(pyvips.Image.profile_load("p3")))
    srgb_profile = ImageCms.createProfile("sRGB")
    transform = ImageCms.buildTransform(
        p3_profile, srgb_profile, "RGB", "RGB", renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC
    )
    return np.asarray(ImageCms.applyTransform(Image.fromarray(np.ascontiguousarray(p3)), transform))


def gamma_to_srgb(samples: np.ndarray, file_gamma: float, *, peak: int = 255) -> np.ndarray:
    """What a browser shows for a PNG with ``gAMA`` = ``file_gamma`` and sRGB primaries:
    light = sample^(1/gamma) (PNG spec 11.3.3.2), then sRGB-encoded; 8-bit out."""
    linear = (np.asarray(samples, dtype=np.float64) / peak) ** (1 / file_gamma)
    return np.round(srgb_encode(linear) * 255).astype(np.uint8)


def p3_gamma_to_srgb(samples: np.ndarray, file_gamma: float) -> np.ndarray:
    """As :func:`gamma_to_srgb` for a PNG whose ``cHRM`` names the Display P3 primaries."""
    linear = (np.asarray(samples, dtype=np.float64) / 255) ** (1 / file_gamma)
    return np.round(srgb_encode(linear @ P3_TO_SRGB.T) * 255).astype(np.uint8)


def _s15(value: float) -> bytes:
    """ICC s15Fixed16Number."""
    return struct.pack(">i", int(round(value * 65536)))


def adobe_rgb_icc() -> bytes:
    """An ICC v2 display profile with the Adobe RGB (1998) primaries (D50-adapted colorants as
    published in the Adobe RGB (1998) Color Image Encoding spec, section 4.3.4.3), D50 white and
    a pure gamma of 563/256 (2.19921875), written byte by byte (ICC.1:2001-04 layout): no Adobe
    profile ships offline here, and this one is ours to commit."""
    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + _s15(x) + _s15(y) + _s15(z)

    text = b"Adobe RGB (1998) compatible, written by the tests\0"
    gamma = b"curv" + bytes(4) + struct.pack(">IH", 1, 563) + bytes(2)
    tags = [
        (b"desc", b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(8) + bytes(70)),
        (b"cprt", b"text" + bytes(4) + b"No copyright: test data\0"),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.6097559, 0.3111145, 0.0194702)),
        (b"gXYZ", xyz(0.2052401, 0.6256714, 0.0608902)),
        (b"bXYZ", xyz(0.1492240, 0.0632141, 0.7445396)),
        (b"rTRC", gamma), (b"gTRC", gamma), (b"bTRC", gamma),
    ]
    start = 128 + 4 + 12 * len(tags)
    table, data = struct.pack(">I", len(tags)), b""
    for signature, body in tags:
        data += bytes(-len(data) % 4)  # tag data starts on 4-byte boundaries
        table += signature + struct.pack(">II", start + len(data), len(body))
        data += body
    data += bytes(-len(data) % 4)
    header = (struct.pack(">I", start + len(data)) + b"lcms" + struct.pack(">I", 0x02100000) + b"mntr" + b"RGB "
              + b"XYZ " + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp" + bytes(24) + bytes(4)
              + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + bytes(48))
    assert len(header) == 128
    return header + table + data


def icc_to_srgb_lcms(numbers: np.ndarray, icc: bytes) -> np.ndarray:
    """RGB numbers (HxWx3 uint8) in the colour space of ``icc`` -> sRGB by littlecms (Pillow's
    ``ImageCms``), relative colorimetric."""
    from PIL import Image, ImageCms

    transform = ImageCms.buildTransform(
        ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB"), "RGB", "RGB",
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
    )
    return np.asarray(ImageCms.applyTransform(Image.fromarray(np.ascontiguousarray(numbers)), transform))


# --- HDR (BT.2100 PQ and HLG) references, written out from the standards ------------------------
#
# The tests make an HDR file of a known sRGB picture: its light, in BT.2020 primaries, with sRGB
# white at the BT.2408 reference white of 203 cd/m2, encoded with the PQ or HLG curve. Decoding
# it as a browser does must give back the sRGB picture.

#: ITU-R BT.2087-0 (10/2015) equation 3: linear BT.709 RGB -> linear BT.2020 RGB, as printed.
BT709_TO_BT2020 = np.array([[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114], [0.0164, 0.0880, 0.8956]])
#: ITU-R BT.2408-7 section 2.2: HDR reference white (diffuse white), cd/m2.
REFERENCE_WHITE_NITS = 203.0
#: BT.2100 HLG reference display: nominal peak LW = 1000 cd/m2, system gamma 1.2 (table 5).
HLG_PEAK_NITS, HLG_GAMMA = 1000.0, 1.2


def pq_encode(nits: np.ndarray) -> np.ndarray:
    """Display light (cd/m2) -> PQ signal 0-1: the inverse EOTF of SMPTE ST 2084 / BT.2100 table 4."""
    m1, m2 = 2610 / 16384, 2523 / 4096 * 128
    c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    y = np.clip(np.asarray(nits, dtype=np.float64) / 10000.0, 0, 1) ** m1
    return ((c1 + c2 * y) / (1 + c3 * y)) ** m2


def pq_decode(signal: np.ndarray) -> np.ndarray:
    """PQ signal 0-1 -> display light (cd/m2): the EOTF of SMPTE ST 2084 / BT.2100 table 4."""
    m1, m2 = 2610 / 16384, 2523 / 4096 * 128
    c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    p = np.clip(np.asarray(signal, dtype=np.float64), 0, 1) ** (1 / m2)
    return 10000.0 * (np.maximum(p - c1, 0) / (c2 - c3 * p)) ** (1 / m1)


def hlg_encode(display_nits: np.ndarray) -> np.ndarray:
    """Display light (HxWx3, cd/m2, BT.2020) -> HLG signal 0-1 on the BT.2100 reference display:
    the inverse OOTF (Ys = (Yd/LW)^(1/gamma), E = Fd / (LW Ys^(gamma-1))), then the HLG OETF
    (BT.2100 table 5: sqrt(3E) up to 1/12, a ln(12E - b) + c above)."""
    fd = np.asarray(display_nits, dtype=np.float64)
    yd = fd @ np.array([0.2627, 0.6780, 0.0593])
    ys = (yd / HLG_PEAK_NITS) ** (1 / HLG_GAMMA)
    scale = np.where(ys > 0, HLG_PEAK_NITS * ys ** (HLG_GAMMA - 1), 1.0)
    e = np.clip(fd / scale[..., None], 0, 1)
    a = 0.17883277
    b, c = 1 - 4 * a, 0.5 - a * np.log(4 * a)
    return np.where(e <= 1 / 12, np.sqrt(3 * e), a * np.log(np.maximum(12 * e - b, 1e-12)) + c)


def srgb8_to_hdr16(rgb: np.ndarray, transfer: str) -> np.ndarray:
    """HxWx3 8-bit sRGB -> the 16-bit samples of the same picture as BT.2100 ``pq`` or ``hlg``
    (BT.2020 primaries, sRGB white at 203 cd/m2): what an HDR export of an SDR picture holds."""
    nits = srgb_decode(np.asarray(rgb, dtype=np.float64)[..., :3] / 255.0) @ BT709_TO_BT2020.T
    nits = np.clip(nits, 0, None) * REFERENCE_WHITE_NITS
    signal = pq_encode(nits) if transfer == "pq" else hlg_encode(nits)
    return np.round(np.clip(signal, 0, 1) * 65535).astype(np.uint16)


def grey_nits_to_pq16(nits: np.ndarray) -> np.ndarray:
    """Neutral display light (HxW, cd/m2) -> HxWx3 16-bit PQ samples."""
    return np.repeat(np.round(pq_encode(nits) * 65535).astype(np.uint16)[..., None], 3, axis=2)
