"""HDR pictures (ITU-R BT.2100 PQ and HLG) to SDR sRGB, as a browser shows them on an ordinary display.

An AVIF or HEIC exported as HDR signals CICP transfer 16 (PQ, SMPTE ST 2084) or 18 (HLG) and,
nearly always, BT.2020 primaries. Its code values are not sRGB: read as sRGB they look flat and
washed out (a mean ΔE*ab of 35 against the picture meant, in the tests). The conversion here:

1. **Light.** PQ: the EOTF gives absolute display light in cd/m2 (:func:`pq_eotf`). HLG: the
   inverse OETF gives scene light (:func:`hlg_inverse_oetf`), and the OOTF of the BT.2100
   reference display (peak 1000 cd/m2, system gamma 1.2) display light (:func:`hlg_ootf`).
2. **Highlights.** Light above SDR reference white is compressed by the EETF of ITU-R BT.2390
   (:func:`bt2390_eetf`), from the picture's own peak down to the reference white, applied to
   max(R, G, B) in BT.2020 so that hue and saturation are kept (:func:`tone_map`).
3. **Reference white.** SDR white is the HDR reference (diffuse) white of ITU-R BT.2408-7
   section 2.2: 203 cd/m2 (PQ signal 58 %, HLG signal 75 %). Light / 203 is relative SDR light.
4. **Primaries.** BT.2020 to sRGB (BT.709) by the matrix computed from the chromaticities
   (:func:`.colour_space.to_srgb_matrix`); colours outside sRGB are brought in by desaturating
   towards grey of the same luminance (:func:`gamut_clip`), not by clipping each channel.
5. **Encoding.** The sRGB curve (IEC 61966-2-1) to 8 bits.

A picture with nothing brighter than reference white (an SDR picture exported as HDR) is left
as it was: the EETF only acts when the picture's peak is above 203 cd/m2. When it is, BT.2390's
knee starts below reference white (for a 1000 cd/m2 peak, at about 92 cd/m2), so a bright HDR
picture's upper midtones are compressed a little too: that is the standard curve's trade for
keeping highlights distinguishable on a 203 cd/m2 display.

The maths runs in numpy, float32, over strips of rows of the decoded image (the image is
converted once at its decoded size, so every variant has the same colour).
"""

from __future__ import annotations

import numpy as np
import pyvips

from media_vm.imaging.colour_space import (
    CICP_PRIMARIES,
    ColourSignal,
    rgb_to_xyz_matrix,
    srgb_encode,
    to_srgb_matrix,
    with_alpha_of,
)

#: SDR reference white in cd/m2: ITU-R BT.2408-7 (2023) section 2.2 and table 1, HDR reference
#: white (the diffuse white of graphics and of SDR content placed in HDR).
REFERENCE_WHITE_NITS = 203.0
#: HLG reference display peak LW in cd/m2 (ITU-R BT.2100-2 table 5, note 5f: the OOTF's
#: reference), at which the system gamma is 1.2 and signal 75 % is 203 cd/m2 (BT.2408 table 1).
HLG_PEAK_NITS = 1000.0

# SMPTE ST 2084:2014 / ITU-R BT.2100-2 table 4 constants, exact as printed there
_M1 = 2610 / 16384
_M2 = 2523 / 4096 * 128
_C1 = 3424 / 4096
_C2 = 2413 / 4096 * 32
_C3 = 2392 / 4096 * 32
# ITU-R BT.2100-2 table 5 HLG constants
_HLG_A = 0.17883277
_HLG_B = 1 - 4 * _HLG_A
_HLG_C = 0.5 - _HLG_A * np.log(4 * _HLG_A)
#: BT.2020 luminance weights (ITU-R BT.2100-2 table 5, HLG OOTF's Ys; BT.2020 table 4).
_BT2020_LUMA = np.array([0.2627, 0.6780, 0.0593], dtype=np.float32)
#: BT.709 / sRGB luminance weights (ITU-R BT.709-6 item 3.2), for the gamut mapping.
_BT709_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
#: Pixels per strip: about 1 M (12 MB per float32 RGB array), so a 12 MP image is 12 strips.
_STRIP_PIXELS = 1 << 20


def pq_eotf(signal: np.ndarray) -> np.ndarray:
    """PQ signal E' (0-1) to display light F_D in cd/m2: the EOTF of SMPTE ST 2084 (ITU-R
    BT.2100-2 table 4), F_D = 10000 (max(E'^(1/m2) - c1, 0) / (c2 - c3 E'^(1/m2)))^(1/m1)."""
    p = np.power(np.clip(np.asarray(signal, dtype=np.float64), 0.0, 1.0), 1 / _M2)
    return 10000.0 * np.power(np.maximum(p - _C1, 0.0) / (_C2 - _C3 * p), 1 / _M1)


def pq_inverse_eotf(nits: np.ndarray) -> np.ndarray:
    """Display light in cd/m2 (clipped to 0-10000) to PQ signal E': the inverse EOTF of
    ITU-R BT.2100-2 table 4, E' = ((c1 + c2 Y^m1) / (1 + c3 Y^m1))^m2 with Y = F_D / 10000."""
    y = np.power(np.clip(np.asarray(nits, dtype=np.float64) / 10000.0, 0.0, 1.0), _M1)
    return np.power((_C1 + _C2 * y) / (1 + _C3 * y), _M2)


def hlg_inverse_oetf(signal: np.ndarray) -> np.ndarray:
    """HLG signal E' (0-1) to normalised scene light E (0-1): the inverse OETF of ITU-R BT.2100-2
    table 5, E = E'^2 / 3 for E' <= 1/2, else (exp((E' - c) / a) + b) / 12."""
    e = np.clip(np.asarray(signal, dtype=np.float64), 0.0, 1.0)
    high = (np.exp((np.maximum(e, 0.5) - _HLG_C) / _HLG_A) + _HLG_B) / 12
    return np.where(e <= 0.5, e * e / 3, high)


def hlg_ootf(scene: np.ndarray, peak: float = HLG_PEAK_NITS, *, luma: np.ndarray = _BT2020_LUMA) -> np.ndarray:
    """Scene light (..., 3; BT.2020 RGB, 0-1) to display light in cd/m2 on a display of ``peak``
    cd/m2 with black at 0: the HLG OOTF of ITU-R BT.2100-2 table 5, F_D = alpha Y_S^(gamma-1) E
    with alpha = peak, Y_S = 0.2627 R + 0.6780 G + 0.0593 B and gamma = 1.2 + 0.42 log10(peak /
    1000) (table 5 note 5f; 1.2 at the reference 1000 cd/m2). ``luma`` are the weights of Y_S
    for other primaries."""
    scene = np.asarray(scene)
    gamma = 1.2 + 0.42 * np.log10(peak / 1000.0)
    ys = scene @ np.asarray(luma, dtype=scene.dtype)
    gain = peak * np.power(np.maximum(ys, 1e-12), np.asarray(gamma - 1, dtype=scene.dtype))
    return scene * gain[..., None]


def bt2390_eetf(signal: np.ndarray, *, source_peak: float, target_peak: float = REFERENCE_WHITE_NITS) -> np.ndarray:
    """PQ signal to PQ signal: the EETF of ITU-R BT.2390-11 section 5.4.1, mapping content whose
    peak is ``source_peak`` cd/m2 onto a display whose peak is ``target_peak``, with both blacks at
    0 (so the black-lift term b (1 - E2)^4 is 0):

    - E1 = E' / PQ(L_W); maxLum = PQ(L_max) / PQ(L_W); knee KS = 1.5 maxLum - 0.5
    - E2 = E1 below KS; above it the Hermite spline P(E1) = (2T^3 - 3T^2 + 1) KS +
      (T^3 - 2T^2 + T)(1 - KS) + (-2T^3 + 3T^2) maxLum, T = (E1 - KS) / (1 - KS)
    - E' out = E2 PQ(L_W)

    The spline leaves the knee with slope 1 and reaches maxLum at the source peak with slope 0:
    monotonic, and strictly increasing below the peak. A ``source_peak`` at or below
    ``target_peak`` needs no mapping: the signal is returned unchanged. Signals above the
    source peak are held at the target peak.
    """
    signal = np.asarray(signal)
    if source_peak <= target_peak:
        return signal
    top = float(pq_inverse_eotf(np.array(source_peak)))
    max_lum = float(pq_inverse_eotf(np.array(target_peak))) / top
    knee = max(0.0, 1.5 * max_lum - 0.5)
    e1 = np.minimum(signal / top, 1.0)
    t = (np.maximum(e1, knee) - knee) / (1 - knee)
    t2, t3 = t * t, t * t * t
    spline = (2 * t3 - 3 * t2 + 1) * knee + (t3 - 2 * t2 + t) * (1 - knee) + (-2 * t3 + 3 * t2) * max_lum
    return np.where(e1 < knee, e1, spline) * top


def knee_nits(source_peak: float, target_peak: float = REFERENCE_WHITE_NITS) -> float:
    """Display light (cd/m2) where :func:`bt2390_eetf` starts to compress; ``source_peak`` when
    there is nothing to compress."""
    if source_peak <= target_peak:
        return source_peak
    top = float(pq_inverse_eotf(np.array(source_peak)))
    knee = max(0.0, 1.5 * float(pq_inverse_eotf(np.array(target_peak))) / top - 0.5)
    return float(pq_eotf(np.array(knee * top)))


def tone_map(nits: np.ndarray, source_peak: float, target_peak: float = REFERENCE_WHITE_NITS) -> np.ndarray:
    """Display light (..., 3; cd/m2) with its largest component brought under ``target_peak`` by
    :func:`bt2390_eetf`: each pixel's max(R, G, B) goes through the EETF (in the PQ domain, as
    BT.2390 defines it) and its three components are scaled by the same gain, so hue and
    saturation are kept (the maxRGB approach of SMPTE ST 2094-40's tone mapping). Pixels below
    the knee are not touched."""
    nits = np.asarray(nits)
    if source_peak <= target_peak:
        return nits
    largest = _largest(nits)
    over = largest > knee_nits(source_peak, target_peak)
    if not over.any():
        return nits
    m = largest[over].astype(np.float64)
    mapped = pq_eotf(bt2390_eetf(pq_inverse_eotf(m), source_peak=source_peak, target_peak=target_peak))
    out = nits.copy()
    out[over] *= (mapped / m).astype(nits.dtype)[:, None]
    return out


def gamut_clip(rgb: np.ndarray) -> np.ndarray:
    """Linear sRGB (..., 3; 1 = white) into 0-1 by moving each out-of-range pixel towards the grey
    of its own luminance (Y = 0.2126 R + 0.7152 G + 0.0722 B, BT.709) just far enough: its
    luminance, and the hue of its line to grey, are kept; in-gamut pixels are untouched. Pixels
    brighter than white become white. Clipping each channel alone would brighten such colours
    and turn their hue more (BT.2020 green at half reference white: CIELAB L* +4.8, hue 10 degrees
    off, against L* +0.1 and 6 degrees here)."""
    rgb = np.asarray(rgb)
    low = np.minimum(np.minimum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])
    outside = (low < 0) | (_largest(rgb) > 1)
    if not outside.any():
        return rgb
    out = rgb.copy()
    bad = rgb[outside]  # only the few out-of-range pixels pay for the mapping
    y = np.clip(bad @ _BT709_LUMA.astype(bad.dtype), 0.0, 1.0)[:, None]
    keep = np.ones_like(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = np.where(low[outside][:, None] < 0, np.minimum(keep, y / (y - low[outside][:, None])), keep)
        high = _largest(bad)[:, None]
        keep = np.where(high > 1, np.minimum(keep, (1 - y) / (high - y)), keep)
    keep = np.nan_to_num(np.clip(keep, 0.0, 1.0))
    out[outside] = np.clip(y + keep * (bad - y), 0.0, 1.0)
    return out


def hdr_to_srgb8(image: pyvips.Image, signal: ColourSignal) -> pyvips.Image:
    """A decoded PQ or HLG image (uchar or ushort samples as the file stores them; grey, grey +
    alpha, RGB or RGBA) as 8-bit sRGB, alpha kept: the steps of this module's docstring.

    The picture's peak (the largest max(R, G, B) of its display light) is the EETF's source
    peak; still images rarely carry mastering metadata, and the measured peak is what their
    content-light level (CTA-861.3 MaxCLL) would say. Raises :class:`ValueError` for another
    transfer or an unexpected layout.
    """
    if not signal.is_hdr:
        raise ValueError(f"not an HDR transfer: {signal.transfer}")
    bands = image.bands - (1 if image.hasalpha() else 0)
    if bands not in (1, 3) or image.format not in ("uchar", "ushort"):
        raise ValueError(f"expected 8/16-bit grey or RGB, got {image.bands} bands of {image.format}")
    top = 65535 if image.format == "ushort" else 255
    samples = np.asarray(image.numpy()).reshape(image.height, image.width, image.bands)
    codes = np.arange(top + 1, dtype=np.float64) / top
    # signal -> light as a lookup table over every code: PQ in cd/m2, HLG scene light 0-1
    to_light = (pq_eotf(codes) if signal.transfer == "pq" else hlg_inverse_oetf(codes)).astype(np.float32)
    to_srgb = np.round(srgb_encode(np.arange(65536) / 65535.0) * 255.0).astype(np.uint8)
    primaries = signal.primaries or CICP_PRIMARIES[1]
    to_srgb_linear = (to_srgb_matrix(primaries) / REFERENCE_WHITE_NITS).astype(np.float32)
    luma = rgb_to_xyz_matrix(primaries)[1].astype(np.float32)  # Y weights (BT.2020: BT.2100's Y_S)

    def light(rows: slice) -> np.ndarray:
        strip = to_light[samples[rows, :, :bands]]
        if bands == 1:
            strip = np.repeat(strip, 3, axis=2)
        return hlg_ootf(strip, luma=luma) if signal.transfer == "hlg" else strip

    step = max(1, _STRIP_PIXELS // max(1, image.width))
    strips = [slice(y, min(y + step, image.height)) for y in range(0, image.height, step)]
    peak = max(float(_largest(light(rows)).max()) for rows in strips)
    out = np.empty((image.height, image.width, 3), dtype=np.uint8)
    for rows in strips:
        mapped = tone_map(light(rows), peak) @ to_srgb_linear.T
        quantised = (gamut_clip(mapped) * 65535.0 + 0.5).astype(np.uint16)
        out[rows] = to_srgb[quantised]
    return with_alpha_of(pyvips.Image.new_from_array(out), image, bands)


def _largest(rgb: np.ndarray) -> np.ndarray:
    """max(R, G, B) per pixel (numpy's max over a last axis of 3 is several times slower)."""
    return np.maximum(np.maximum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])
