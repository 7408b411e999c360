"""Benchmark inputs, generated once into ``var/bench/inputs`` (deterministic)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyvips

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "var" / "bench" / "inputs"


def photo(width: int, height: int, seed: int = 1) -> pyvips.Image:
    """Photo-like: smooth gradients, hard-edged shapes and sensor-like noise (not flat)."""
    rng = np.random.default_rng(seed)
    small_w, small_h = max(8, width // 16), max(8, height // 16)
    base = rng.normal(128, 40, (small_h, small_w, 3)).clip(0, 255).astype(np.uint8)
    image = pyvips.Image.new_from_array(base).copy(interpretation="srgb")
    image = image.resize(width / small_w, vscale=height / small_h, kernel="cubic").gaussblur(3)
    for _ in range(12):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(width // 40, width // 8))
        colour = [int(c) for c in rng.integers(0, 255, 3)]
        image = image.draw_circle(colour, x, y, r, fill=True)
    noise = pyvips.Image.gaussnoise(width, height, sigma=6, mean=0)
    return (image.cast("float") + noise.bandjoin([noise, noise])).cast("uchar").copy(interpretation="srgb")


def logo(width: int = 1600, height: int = 1000) -> pyvips.Image:
    """A flat logo with alpha: coloured shapes on transparency."""
    canvas = pyvips.Image.black(width, height, bands=4).copy(interpretation="srgb")
    canvas = canvas.draw_rect([20, 60, 200, 255], width // 8, height // 4, width // 3, height // 2, fill=True)
    canvas = canvas.draw_circle([230, 40, 40, 255], width * 2 // 3, height // 2, height // 4, fill=True)
    return canvas.cast("uchar")


def ensure_inputs() -> dict[str, Path]:
    """12 MP and 50 MP JPEGs, a PNG logo with alpha, a large WebP, a 2 MB upload JPEG."""
    INPUTS.mkdir(parents=True, exist_ok=True)
    made = {
        "photo_12mp.jpg": lambda p: photo(4000, 3000, 1).jpegsave(p, Q=90),
        "photo_50mp.jpg": lambda p: photo(8660, 5774, 2).jpegsave(p, Q=88),
        "logo_alpha.png": lambda p: logo().pngsave(p),
        "large.webp": lambda p: photo(5000, 3300, 3).webpsave(p, Q=85),
        "upload_2mb.jpg": lambda p: photo(2400, 1600, 4).jpegsave(p, Q=92),
        "photo_12mp_2mb.jpg": lambda p: photo(4000, 3000, 5).jpegsave(p, Q=78),  # 12 MP, about 2 MB
    }
    paths = {}
    for name, make in made.items():
        path = INPUTS / name
        if not path.exists():
            make(str(path))
        paths[name] = path
    return paths
