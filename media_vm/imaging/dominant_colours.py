"""Dominant colours: k-means in CIE Lab over a small downscale, each named by the nearest CSS
named colour by CIEDE2000 (:func:`colour_name`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyvips
import webcolors

from media_vm.imaging import defaults


@dataclass(frozen=True)
class ColourCluster:
    """One dominant colour: its mean sRGB, Lab centre, share of pixels, and name."""

    rgb: tuple[int, int, int]
    lab: tuple[float, float, float]
    share: float
    name: str

    @property
    def hex(self) -> str:
        return "#{:02x}{:02x}{:02x}".format(*self.rgb)

    def as_dict(self) -> dict[str, object]:
        return {"hex": self.hex, "share": round(self.share, 3), "name": self.name}


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 sRGB -> (N, 3) float Lab (D65), using libvips' conversion."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8).reshape(1, -1, 3)
    image = pyvips.Image.new_from_array(rgb, interpretation="srgb")
    return np.asarray(image.colourspace("lab").numpy(), dtype=np.float64).reshape(-1, 3)


#: The named colour CSS Color Module Level 4 added to CSS3's 147 (section 6.1).
CSS4_ADDED = ("rebeccapurple", "#663399")


@functools.cache
def css_named_colours() -> tuple[tuple[str, ...], pyvips.Image]:
    """(names, their CIELAB as a 1 x N libvips image) of the CSS Color Module Level 4 named colours.

    The 147 names of ``webcolors``' CSS3 list plus ``rebeccapurple`` (``#663399``), the one name
    CSS Color 4 added and ``webcolors`` leaves out: 148. Aliases of one value (``aqua``/``cyan``,
    ``gray``/``grey``, ...) become one entry under the name ``webcolors.hex_to_name`` gives, so
    139 distinct colours. Lazy: no libvips work at import time (a server may import this before
    forking).
    """
    hexes = sorted({webcolors.name_to_hex(name) for name in webcolors.names(webcolors.CSS3)})
    names = tuple(webcolors.hex_to_name(h, spec=webcolors.CSS3) for h in hexes) + (CSS4_ADDED[0],)
    hexes.append(CSS4_ADDED[1])
    rgb = np.array([tuple(webcolors.hex_to_rgb(h)) for h in hexes], dtype=np.uint8).reshape(1, -1, 3)
    lab = pyvips.Image.new_from_array(np.ascontiguousarray(rgb), interpretation="srgb").colourspace("lab")
    return names, lab.copy_memory()


def colour_name(lab: np.ndarray | tuple[float, float, float]) -> str:
    """The CSS named colour nearest to a CIELAB (D65) colour by CIEDE2000 (libvips' ``dE00``,
    Sharma, Wu and Dalal 2005), e.g. ``#dc273b`` -> ``crimson``, ``#1e59c7`` -> ``royalblue``."""
    names, reference = css_named_colours()
    point = np.asarray(lab, dtype=np.float32).reshape(1, 1, 3)
    sample = pyvips.Image.new_from_array(point, interpretation="lab").replicate(reference.width, 1)
    distances = np.asarray(sample.dE00(reference).numpy(), dtype=np.float64).reshape(-1)
    return names[int(np.argmin(distances))]


def sample_pixels(image: pyvips.Image) -> tuple[np.ndarray, np.ndarray]:
    """(rgb uint8 (N, 3), lab float (N, 3)) of the visible (alpha >= 128) pixels of ``image``."""
    array = image.numpy().reshape(-1, image.bands)
    if image.hasalpha():
        array = array[array[:, -1] >= 128]
    rgb = array[:, :3].astype(np.uint8)
    return rgb, srgb_to_lab(rgb) if len(rgb) else np.empty((0, 3))


def dominant_colours(
    rgb: np.ndarray, lab: np.ndarray, *, k: int = defaults.DOMINANT_COLOURS, seed: int = 0
) -> list[ColourCluster]:
    """Up to ``k`` dominant colours, largest share first; near-identical clusters merged and
    clusters under ``COLOUR_MIN_SHARE`` (anti-aliased edges, specks) given to the nearest other.

    Deterministic for a given input (k-means++ seeded with ``seed``, 25 Lloyd iterations).
    """
    if len(lab) == 0:
        return []
    centres = _kmeans_pp_init(lab, k, np.random.default_rng(seed))
    labels = np.zeros(len(lab), dtype=np.intp)
    for _ in range(25):
        labels = np.argmin(_sq_distances(lab, centres), axis=1)
        moved = np.array(
            [lab[labels == i].mean(axis=0) if np.any(labels == i) else centres[i] for i in range(len(centres))]
        )
        if np.allclose(moved, centres, atol=0.05):
            break
        centres = moved
    labels = _merge_close(lab, labels, centres)
    labels = _absorb_small(lab, labels)
    clusters = []
    for i in np.unique(labels):
        members = labels == i
        mean_lab = lab[members].mean(axis=0)
        mean_rgb = np.clip(np.rint(rgb[members].mean(axis=0)), 0, 255).astype(int)
        clusters.append(
            ColourCluster(
                rgb=(int(mean_rgb[0]), int(mean_rgb[1]), int(mean_rgb[2])),
                lab=(float(mean_lab[0]), float(mean_lab[1]), float(mean_lab[2])),
                share=float(members.mean()),
                name=colour_name(mean_lab),
            )
        )
    return sorted(clusters, key=lambda c: c.share, reverse=True)


def flatness(lab: np.ndarray, clusters: list[ColourCluster]) -> float:
    """Fraction of pixels within ``FLAT_PIXEL_DELTA_E`` of their nearest dominant colour.

    Near 1 for flat graphics (a few solid fills), low for photos (shading, texture).
    """
    if len(lab) == 0 or not clusters:
        return 0.0
    centres = np.array([c.lab for c in clusters])
    nearest = np.sqrt(_sq_distances(lab, centres).min(axis=1))
    return float((nearest <= defaults.FLAT_PIXEL_DELTA_E).mean())


def _sq_distances(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)


def _kmeans_pp_init(lab: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centres = [lab[rng.integers(len(lab))]]
    while len(centres) < k:
        weights = _sq_distances(lab, np.array(centres)).min(axis=1)
        total = weights.sum()
        if total <= 1e-9:  # fewer distinct colours than k
            break
        centres.append(lab[rng.choice(len(lab), p=weights / total)])
    return np.array(centres)


def _merge_close(lab: np.ndarray, labels: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Relabel clusters whose centres are within ``COLOUR_MERGE_DELTA_E`` into one."""
    labels = labels.copy()
    order = np.argsort(-np.bincount(labels, minlength=len(centres)))  # biggest absorbs the others
    for a_pos, a in enumerate(order):
        if not np.any(labels == a):
            continue
        for b in order[a_pos + 1 :]:
            if np.any(labels == b) and np.linalg.norm(centres[a] - centres[b]) < defaults.COLOUR_MERGE_DELTA_E:
                labels[labels == b] = a
    return labels


def _absorb_small(lab: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Move the pixels of clusters under ``COLOUR_MIN_SHARE`` to the nearest kept cluster centre."""
    ids, counts = np.unique(labels, return_counts=True)
    keep = ids[counts / len(labels) >= defaults.COLOUR_MIN_SHARE]
    if len(keep) == 0 or len(keep) == len(ids):
        return labels
    centres = np.array([lab[labels == i].mean(axis=0) for i in keep])
    small = ~np.isin(labels, keep)
    labels = labels.copy()
    labels[small] = keep[np.argmin(_sq_distances(lab[small], centres), axis=1)]
    return labels
