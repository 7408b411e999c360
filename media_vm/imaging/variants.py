"""make_variants: one upload in, every size x format (x background) file out.

The file is decoded once, shrunk on load to the largest scale any size needs, and held in
memory; every size is cut from that image, every format encoded from each size. Files are
written atomically, and a call that fails removes what it had already written, so a
retry starts from a clean slate and a reader never sees a half set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyvips

from media_vm.exceptions import ImageProcessingError
from media_vm.imaging import defaults
from media_vm.imaging.background import assess_background, remove_background
from media_vm.imaging.encoding import REMOVED_BG_FORMATS, encode, formats_for
from media_vm.imaging.files import remove_quietly, write_atomic
from media_vm.imaging.loading import decode, error_detail, probe
from media_vm.imaging.resizing import render_size
from media_vm.imaging.sizing import decode_box
from shared.data_types import DataType
from shared.sizes import SIZES, ImageFormat

_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class VariantFile:
    """One written variant."""

    size: str  #: a name from ``shared.sizes.SIZES``
    format: str  #: an ``ImageFormat`` value
    bg: str  #: ``original`` or ``removed``
    path: Path
    width: int
    height: int
    bytes: int


def variant_file_name(stem: str, size: str, fmt: ImageFormat | str, bg: str = "original") -> str:
    """``{stem}_{size}.{ext}``, or ``{stem}_{size}_nobg.{ext}`` for the background-removed set."""
    ext = ImageFormat(fmt).extension
    if bg not in ("original", "removed"):
        raise ValueError(f"bg must be 'original' or 'removed', got {bg!r}")
    return f"{stem}_{size}{'_nobg' if bg == 'removed' else ''}.{ext}"


def make_variants(
    source: Path,
    out_dir: Path,
    *,
    stem: str,
    data_type: DataType | str,
    max_pixels: int = defaults.DEFAULT_MAX_PIXELS,
    avif_effort: int = defaults.AVIF_EFFORT,
    focus: tuple[float, float, float, float] | None = None,
) -> list[VariantFile]:
    """Write every variant of ``source`` into ``out_dir`` (created if needed) and return them.

    ``focus`` (x, y, w, h normalised to the upright image, from :func:`.cropping.crop_focus`)
    is what the square and header crops keep; without it libvips' attention decides.

    Raises :class:`ImageRejected` for input we do not accept (nothing is written then) and
    :class:`ImageProcessingError` when writing fails (files of this call are removed).
    """
    if not _STEM.match(stem):
        raise ValueError(f"stem must be a plain file name part, got {stem!r}")
    if not 0 <= avif_effort <= 9:
        raise ValueError(f"avif_effort must be 0-9, got {avif_effort}")
    data_type = DataType(data_type)
    info = probe(Path(source), max_pixels=max_pixels)
    image = decode(info, fit=decode_box(info.width, info.height))
    original = (info.width, info.height)

    sets: list[tuple[str, pyvips.Image, tuple[ImageFormat, ...]]] = [
        ("original", image, formats_for(has_alpha=bool(image.hasalpha()), data_type=data_type))
    ]
    try:
        if data_type is DataType.LOGO:
            decision = assess_background(image)
            if decision.removable:
                sets.append(("removed", remove_background(image, decision).copy_memory(), REMOVED_BG_FORMATS))
    except pyvips.Error as e:
        raise ImageProcessingError(f"{info.path.name}: background removal failed: {error_detail(e)}") from e

    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ImageProcessingError(f"cannot create {out_dir}: {e.strerror or e}") from e

    written: list[VariantFile] = []
    try:
        for bg, base, formats in sets:
            for size in SIZES:
                variant = render_size(base, size, original, focus).copy_memory()
                for fmt in formats:
                    data = encode(variant, fmt, avif_effort=avif_effort)
                    path = out_dir / variant_file_name(stem, size.name, fmt, bg)
                    write_atomic(path, data)
                    written.append(
                        VariantFile(size.name, fmt.value, bg, path, variant.width, variant.height, len(data))
                    )
    except BaseException as e:
        remove_quietly([v.path for v in written])
        if isinstance(e, pyvips.Error):
            raise ImageProcessingError(f"{info.path.name}: encoding failed: {error_detail(e)}") from e
        raise
    return written
