"""Colour normalisation: every decoded image ends as 8-bit sRGB, with alpha only where it is real.

Inputs arrive as CMYK, 16-bit, greyscale, 1-bit, palette, with or without an embedded ICC
profile. Variants are saved without metadata (``keep="none"``), which tells browsers "sRGB",
so the pixels must really be sRGB before saving.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyvips

#: White, for flattening alpha (JPEG has none).
WHITE: tuple[float, float, float] = (255.0, 255.0, 255.0)


def to_srgb8(image: pyvips.Image) -> pyvips.Image:
    """Return ``image`` as 8-bit sRGB (3 bands, or 4 with its alpha).

    An embedded ICC profile is honoured (``icc_transform`` to sRGB, relative intent); CMYK
    without one goes through libvips' fallback CMYK profile; everything else (grey, 1-bit,
    16-bit, Lab...) through ``colourspace``. A broken embedded profile falls back to
    ``colourspace`` rather than failing the upload.
    """
    if image.get_typeof("icc-profile-data"):
        try:
            image = image.icc_transform("srgb", embedded=True, intent="relative", depth=8)
        except pyvips.Error:
            pass
        image = _without(image, "icc-profile-data")
    if image.interpretation == "cmyk":
        image = image.icc_transform("srgb", input_profile="cmyk", intent="relative", depth=8)
    if image.format == "ushort" and image.interpretation not in ("rgb16", "grey16"):
        # 16-bit data mislabelled (e.g. a TIFF tagged plain RGB): say what it is so
        # colourspace scales 0-65535 down instead of clipping.
        image = image.copy(interpretation="rgb16" if image.bands >= 3 else "grey16")
    if image.interpretation != "srgb":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        # e.g. a float or 16-bit image already tagged sRGB; cast clips to 0-255.
        image = image.cast("uchar")
    return image


def has_real_alpha(image: pyvips.Image) -> bool:
    """True when ``image`` has an alpha band and at least one pixel is not fully opaque.

    GIF and some PNG/TIFF encoders add an alpha band that is opaque everywhere; keeping it
    would double the variants (PNG) for nothing. This computes a ``min``, so call it on a
    decoded (in-memory) image.
    """
    return bool(image.hasalpha()) and image[image.bands - 1].min() < 255


def drop_opaque_alpha(image: pyvips.Image) -> pyvips.Image:
    """``image`` without its alpha band when that band is opaque everywhere; else unchanged."""
    if image.hasalpha() and not has_real_alpha(image):
        return image.extract_band(0, n=image.bands - 1)
    return image


def flatten_on_white(image: pyvips.Image) -> pyvips.Image:
    """Composite alpha over white (for JPEG); images without alpha come back unchanged."""
    if not image.hasalpha():
        return image
    return image.flatten(background=list(WHITE)).cast("uchar")


def _without(image: pyvips.Image, field: str) -> pyvips.Image:
    out = image.copy()
    out.remove(field)
    return out


# --- colour signalled outside an ICC profile ---------------------------------------------------
#
# A file may describe its colour without an ICC profile: a CICP (nclx) box in AVIF/HEIF, a
# cICP, sRGB, gAMA or cHRM chunk in PNG. Browsers honour them; ignoring them shows Display P3
# photos desaturated and linear-light PNGs far too dark. The conversion below is the one a
# colour-managed viewer does (relative colorimetric, out-of-gamut values clipped):
#
#   sample V (0-1) --transfer^-1--> linear RGB --3x3 (primaries -> XYZ -> Bradford -> sRGB)-->
#   linear sRGB --clip 0-1--> sRGB-encoded (IEC 61966-2-1) --x255--> 8-bit sRGB

#: CIE 1931 xy chromaticities of red, green, blue and white.
Chromaticities = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]

D65: tuple[float, float] = (0.3127, 0.3290)
#: sRGB = ITU-R BT.709 primaries with a D65 white (IEC 61966-2-1:1999, table 1).
SRGB_PRIMARIES: Chromaticities = ((0.640, 0.330), (0.300, 0.600), (0.150, 0.060), D65)

#: Colour primaries by CICP code, ITU-T H.273 (07/2024) table 2: (red, green, blue, white) xy.
#: Codes 0, 3 and 13-21 are reserved; 2 is "unspecified" (taken as sRGB, as browsers do).
CICP_PRIMARIES: dict[int, Chromaticities] = {
    1: SRGB_PRIMARIES,  # BT.709, sRGB
    4: ((0.67, 0.33), (0.21, 0.71), (0.14, 0.08), (0.310, 0.316)),  # BT.470 System M (white C)
    5: ((0.64, 0.33), (0.29, 0.60), (0.15, 0.06), D65),  # BT.470 System B, G; BT.601 625
    6: ((0.630, 0.340), (0.310, 0.595), (0.155, 0.070), D65),  # SMPTE 170M, BT.601 525
    7: ((0.630, 0.340), (0.310, 0.595), (0.155, 0.070), D65),  # SMPTE 240M
    8: ((0.681, 0.319), (0.243, 0.692), (0.145, 0.049), (0.310, 0.316)),  # generic film (white C)
    9: ((0.708, 0.292), (0.170, 0.797), (0.131, 0.046), D65),  # BT.2020, BT.2100
    10: ((1.0, 0.0), (0.0, 1.0), (0.0, 0.0), (1 / 3, 1 / 3)),  # SMPTE ST 428-1 (CIE XYZ)
    11: ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060), (0.314, 0.351)),  # SMPTE RP 431-2, DCI-P3
    12: ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060), D65),  # SMPTE EG 432-1, Display P3
    22: ((0.630, 0.340), (0.295, 0.605), (0.155, 0.077), D65),  # EBU Tech 3213-E
}

#: Transfer characteristics by CICP code, ITU-T H.273 table 3, as :class:`Transfer` kinds.
#: 1, 6, 14 and 15 share the BT.709 curve; 4 and 5 are pure powers; 8 is linear; 13 (and 2,
#: unspecified) is sRGB. PQ (16) and HLG (18) are HDR: tone-mapped to SDR by :mod:`.hdr`, not by
#: :func:`signalled_to_srgb8`. The log curves (9, 10) are not converted: read as sRGB.
CICP_TRANSFERS: dict[int, tuple[str, float]] = {
    1: ("bt709", 0.0),
    4: ("power", 2.2),
    5: ("power", 2.8),
    6: ("bt709", 0.0),
    7: ("smpte240", 0.0),
    8: ("linear", 0.0),
    13: ("srgb", 0.0),
    14: ("bt709", 0.0),
    15: ("bt709", 0.0),
    16: ("pq", 0.0),
    18: ("hlg", 0.0),
}

#: Transfers of high dynamic range (ITU-R BT.2100): their light goes beyond SDR white.
HDR_TRANSFERS: frozenset[str] = frozenset({"pq", "hlg"})


@dataclass(frozen=True)
class ColourSignal:
    """Colour described by a file without an ICC profile (see :mod:`.colour_signals`).

    ``transfer`` is how an encoded sample V in 0-1 becomes linear light L in 0-1:

    - ``srgb``: IEC 61966-2-1, L = V/12.92 for V <= 0.04045, else ((V+0.055)/1.055)^2.4
    - ``bt709``: inverse of the BT.709 OETF (H.273 transfer 1), L = V/4.5 for V < 0.081,
      else ((V+0.099)/1.099)^(1/0.45)
    - ``smpte240``: inverse of SMPTE 240M (H.273 transfer 7), L = V/4 for V < 0.0913,
      else ((V+0.1115)/1.1115)^(1/0.45)
    - ``power``: L = V^exponent (a PNG ``gAMA`` of g gives exponent 1/g: PNG spec 3rd
      edition, 11.3.3.2; H.273 transfers 4 and 5 give 2.2 and 2.8)
    - ``linear``: L = V
    - ``pq``, ``hlg``: ITU-R BT.2100 HDR (SMPTE ST 2084 PQ, hybrid log-gamma); light goes beyond
      SDR white, so these are converted by :func:`.hdr.hdr_to_srgb8` (tone-mapped), never by
      :func:`decode_transfer`.

    ``primaries`` are the chromaticities of the file's red, green, blue and white (``None``:
    sRGB's). ``origin`` says where the signal came from, for messages and logs.
    """

    transfer: str
    exponent: float = 0.0
    primaries: Chromaticities | None = None
    origin: str = ""

    def __post_init__(self) -> None:
        if self.transfer not in ("srgb", "bt709", "smpte240", "power", "linear", *HDR_TRANSFERS):
            raise ValueError(f"unknown transfer {self.transfer!r}")
        if self.transfer == "power" and not 0.05 <= self.exponent <= 20:
            raise ValueError(f"transfer exponent out of range: {self.exponent}")

    @property
    def is_srgb(self) -> bool:
        """True when the signal says sRGB, i.e. there is nothing to convert."""
        same_primaries = self.primaries is None or _close(self.primaries, SRGB_PRIMARIES)
        return self.transfer == "srgb" and same_primaries

    @property
    def is_hdr(self) -> bool:
        """True for a PQ or HLG transfer (tone mapping needed: :mod:`.hdr`)."""
        return self.transfer in HDR_TRANSFERS


def cicp_signal(primaries: int, transfer: int, *, origin: str = "") -> ColourSignal | None:
    """The :class:`ColourSignal` of CICP codes (ITU-T H.273), ``None`` when they say sRGB or
    name nothing we convert (unspecified, reserved, the log curves)."""
    kind, exponent = CICP_TRANSFERS.get(transfer, ("srgb", 0.0))
    signal = ColourSignal(
        kind, exponent, CICP_PRIMARIES.get(primaries), origin or f"CICP {primaries}/{transfer}"
    )
    return None if signal.is_srgb else signal


def rgb_to_xyz_matrix(chromaticities: Chromaticities) -> np.ndarray:
    """3x3 matrix from linear RGB (0-1) to CIE XYZ with white Y = 1, from the xy of the
    primaries and the white (SMPTE RP 177-1993, section 3.3).

    Raises :class:`ValueError` when the primaries are degenerate (a y of 0, or collinear).
    """
    (xr, yr), (xg, yg), (xb, yb), (xw, yw) = chromaticities
    if min(yr, yg, yb, yw) <= 0 and chromaticities != CICP_PRIMARIES[10]:
        raise ValueError(f"chromaticity y must be positive: {chromaticities}")
    columns = np.array([_xyz(xr, yr), _xyz(xg, yg), _xyz(xb, yb)]).T
    white = np.array(_xyz(xw, yw))
    try:
        scale = np.linalg.solve(columns, white)
    except np.linalg.LinAlgError as e:
        raise ValueError(f"degenerate primaries: {chromaticities}") from e
    return columns * scale


def bradford_matrix(source_white: tuple[float, float], target_white: tuple[float, float]) -> np.ndarray:
    """3x3 chromatic adaptation of XYZ from ``source_white`` to ``target_white`` (xy), with the
    Bradford cone response (Lam 1985; the matrix of ICC.1:2022 annex E)."""
    cone = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
    src = cone @ np.array(_xyz(*source_white))
    dst = cone @ np.array(_xyz(*target_white))
    return np.linalg.inv(cone) @ np.diag(dst / src) @ cone


def to_srgb_matrix(primaries: Chromaticities) -> np.ndarray:
    """3x3 matrix from linear RGB of ``primaries`` to linear sRGB: to XYZ, Bradford-adapted to
    D65 when the white differs, then XYZ to sRGB (the inverse of sRGB's own RGB->XYZ)."""
    to_xyz = rgb_to_xyz_matrix(primaries)
    white = primaries[3]
    if not _close((white,), (D65,)):
        to_xyz = bradford_matrix(white, D65) @ to_xyz
    return np.linalg.inv(rgb_to_xyz_matrix(SRGB_PRIMARIES)) @ to_xyz


def signalled_to_srgb8(image: pyvips.Image, signal: ColourSignal) -> pyvips.Image:
    """Convert ``image`` (uchar or ushort; grey, grey + alpha, RGB or RGBA, sample values as
    the file stores them) from the colour ``signal`` describes to 8-bit sRGB, alpha kept.

    Greyscale images take the transfer only (primaries do not apply to one channel). The two
    curves run as lookup tables: samples -> linear light (float), and linear light quantised
    to 16 bits -> 8-bit sRGB (a 16-bit step is 1/20 of an 8-bit step even at the steepest,
    near-black part of the sRGB curve).
    """
    bands = image.bands - (1 if image.hasalpha() else 0)
    if bands not in (1, 3):
        raise ValueError(f"expected grey or RGB, with or without alpha; got {image.bands} bands")
    if image.format not in ("uchar", "ushort"):
        raise ValueError(f"expected 8- or 16-bit samples, got {image.format}")
    peak = 65535 if image.format == "ushort" else 255
    to_linear = pyvips.Image.new_from_array(
        decode_transfer(np.arange(peak + 1) / peak, signal).reshape(1, -1).astype(np.float32)
    )
    linear = image.extract_band(0, n=bands).maplut(to_linear)
    if bands == 3 and signal.primaries is not None:
        matrix = to_srgb_matrix(signal.primaries)
        linear = linear.recomb([[float(v) for v in row] for row in matrix])
    quantised = (linear.cast("float") * 65535.0 + 0.5).cast("ushort")  # cast clips to 0-65535
    to_srgb = np.round(srgb_encode(np.arange(65536) / 65535.0) * 255.0).astype(np.uint8)
    out = quantised.maplut(pyvips.Image.new_from_array(to_srgb.reshape(1, -1)))
    if bands == 1:
        out = out.bandjoin([out, out])
    return with_alpha_of(out, image, bands)


def with_alpha_of(srgb8: pyvips.Image, source: pyvips.Image, bands: int) -> pyvips.Image:
    """``srgb8`` (3 bands, 8-bit sRGB) with ``source``'s alpha band (the one after its ``bands``
    colour bands, 8 or 16 bits) appended at 8 bits, rounded; ``srgb8`` as it is when ``source``
    has none."""
    if source.hasalpha():
        alpha = source.extract_band(bands)
        if source.format == "ushort":
            alpha = (alpha.cast("float") * (255.0 / 65535) + 0.5).cast("uchar")
        srgb8 = srgb8.bandjoin(alpha)
    return srgb8.cast("uchar").copy(interpretation="srgb")


def decode_transfer(v: np.ndarray, signal: ColourSignal) -> np.ndarray:
    """Encoded samples ``v`` (0-1, any shape) to linear light (0-1) by ``signal.transfer``
    (the curves are listed on :class:`ColourSignal`)."""
    if signal.is_hdr:
        raise ValueError(f"{signal.transfer} is HDR: convert it with media_vm.imaging.hdr, not as SDR")
    v = np.clip(np.asarray(v, dtype=np.float64), 0.0, 1.0)
    if signal.transfer == "linear":
        return v
    if signal.transfer == "power":
        return np.power(v, signal.exponent)
    if signal.transfer == "bt709":
        return np.where(v < 0.081, v / 4.5, np.power((v + 0.099) / 1.099, 1 / 0.45))
    if signal.transfer == "smpte240":
        return np.where(v < 0.0913, v / 4.0, np.power((v + 0.1115) / 1.1115, 1 / 0.45))
    return np.where(v <= 0.04045, v / 12.92, np.power((v + 0.055) / 1.055, 2.4))


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """Linear light (0-1, clipped) to the sRGB-encoded value (0-1), IEC 61966-2-1:1999 section
    5.2: V = 12.92 L for L <= 0.0031308, else 1.055 L^(1/2.4) - 0.055."""
    linear = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * np.power(linear, 1 / 2.4) - 0.055)


def _xyz(x: float, y: float) -> tuple[float, float, float]:
    """XYZ of chromaticity (x, y) at luminance Y = 1 (Y = 0 for the ST 428 blue at y = 0)."""
    if y == 0:
        return (0.0, 0.0, 1.0)
    return (x / y, 1.0, (1 - x - y) / y)


def _close(a: tuple[tuple[float, float], ...], b: tuple[tuple[float, float], ...], tolerance: float = 5e-4) -> bool:
    return all(abs(p - q) <= tolerance for pa, pb in zip(a, b, strict=True) for p, q in zip(pa, pb, strict=True))
