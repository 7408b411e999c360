"""Small measuring helpers: medians of repeated runs, percentiles, peak memory, SSIM."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Seconds of ``repeat`` runs of ``fn`` (after one warm-up run)."""
    fn()
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def ssim(a: np.ndarray, b: np.ndarray, block: int = 8) -> float:
    """Mean SSIM of the luma of two same-sized RGB arrays over ``block`` x ``block`` windows."""
    def luma(x: np.ndarray) -> np.ndarray:
        x = x[..., :3].astype(np.float64)
        return 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]

    ya, yb = luma(a), luma(b)
    h, w = (ya.shape[0] // block) * block, (ya.shape[1] // block) * block
    shape = (h // block, block, w // block, block)
    wa, wb = ya[:h, :w].reshape(shape), yb[:h, :w].reshape(shape)
    ma, mb = wa.mean(axis=(1, 3)), wb.mean(axis=(1, 3))
    va, vb = wa.var(axis=(1, 3)), wb.var(axis=(1, 3))
    cov = ((wa - ma[:, None, :, None]) * (wb - mb[:, None, :, None])).mean(axis=(1, 3))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma**2 + mb**2 + c1) * (va + vb + c2))
    return float(s.mean())
