"""make_variants: one upload in, every size x format (x background) file out.

The file is decoded once, shrunk on load to the largest scale any size needs, and held in
memory; every size is cut from that image, every format encoded from each size. Files are
written atomically, and a call that fails removes what it had already written, so a
retry starts from a clean slate and a reader never sees a half set.
"""

from __future__ import annotations

import re
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import pyvips

from media_vm.atomic import remove_quietly, write_atomic
from media_vm.exceptions import ImageProcessingError
from media_vm.imaging import defaults
from media_vm.imaging.background import assess_background, remove_background
from media_vm.imaging.encoding import REMOVED_BG_FORMATS, encode, formats_for
from media_vm.imaging.loading import decode, error_detail, probe
from media_vm.imaging.resizing import render_size
from media_vm.imaging.sizing import decode_box, size_order
from media_vm.imaging.watermark import apply_watermark
from shared.data_types import DataType
from shared.sizes import WATERMARKED_SIZES, ImageFormat, Size, sizes_for

#: Relative encoding cost per pixel (measured on the 12 MP photo), to start the slow ones first.
_ENCODE_COST: dict[ImageFormat, float] = {ImageFormat.AVIF: 8.0, ImageFormat.WEBP: 2.0, ImageFormat.PNG: 1.5,
                                          ImageFormat.JPEG: 0.5}
_FORMAT_ORDER = {fmt.value: i for i, fmt in enumerate(ImageFormat)}
_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class VariantFile:
    """One written variant."""

    size: str  #: a name from ``shared.sizes.ALL_SIZES``
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
    sizes: tuple[Size, ...] | None = None,
    removed_sizes: tuple[Size, ...] | None = None,
    watermark: str | None = None,
) -> list[VariantFile]:
    """Write every variant of ``source`` into ``out_dir`` (created if needed) and return them.

    ``focus`` (x, y, w, h normalised to the upright image, from :func:`.cropping.crop_focus`)
    is what the square and header crops keep; without it libvips' attention decides.

    ``sizes``: the sizes of the original-background set (None: every size of the data type,
    ``shared.sizes.sizes_for``: an artwork's three, the contract's six otherwise; pass a preset's
    outputs along to make them too). Each size is made in its own ``formats`` when the outputs
    configuration gives it some (a preset's ``normal`` is a JPEG), else in the data type's, and
    encoded with its own per-format settings where it has them. ``removed_sizes``: those
    of a logo's background-removed set (None: the same as ``sizes``; empty: no removal is even
    tried). The decode is shrunk on load for the largest of them only, so the thumbnail alone
    (``sizes=(thumbnail,), removed_sizes=()``) decodes a fraction of a 12 MP photo.

    ``watermark``: the text drawn (:func:`.watermark.apply_watermark`) on the sizes of
    ``shared.sizes.WATERMARKED_SIZES`` and on every preset output (``normal``, ``hq``) before
    they are encoded, so every format of them carries it; None or empty: no watermark.

    Raises :class:`ImageRejected` for input we do not accept (nothing is written then) and
    :class:`ImageProcessingError` when writing fails (files of this call are removed).
    """
    if not _STEM.match(stem):
        raise ValueError(f"stem must be a plain file name part, got {stem!r}")
    if not 0 <= avif_effort <= 9:
        raise ValueError(f"avif_effort must be 0-9, got {avif_effort}")
    data_type = DataType(data_type)
    sizes = sizes_for(data_type) if sizes is None else sizes
    removed_sizes = sizes if removed_sizes is None else removed_sizes
    if data_type is not DataType.LOGO:
        removed_sizes = ()
    if not sizes and not removed_sizes:
        return []
    info = probe(Path(source), max_pixels=max_pixels)
    image = decode(info, fit=decode_box(info.width, info.height, tuple({*sizes, *removed_sizes})))
    original = (info.width, info.height)

    sets: list[tuple[str, pyvips.Image, tuple[ImageFormat, ...], tuple[Size, ...]]] = [
        ("original", image, formats_for(has_alpha=bool(image.hasalpha()), data_type=data_type), sizes)
    ]
    try:
        if removed_sizes:
            decision = assess_background(image)
            if decision.removable:
                sets.append(("removed", remove_background(image, decision).copy_memory(), REMOVED_BG_FORMATS,
                             removed_sizes))
    except pyvips.Error as e:
        raise ImageProcessingError(f"{info.path.name}: background removal failed: {error_detail(e)}") from e

    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ImageProcessingError(f"cannot create {out_dir}: {e.strerror or e}") from e

    # Sizes are cut one after the other (cheap); the encodes, most of the time, run on every
    # core at once, the costliest first so that no core idles at the end.
    jobs: list[tuple[str, Size, pyvips.Image, ImageFormat]] = []
    try:
        for bg, base, formats, set_sizes in sets:
            for size in set_sizes:
                variant = render_size(base, size, original, focus)
                if size.name in WATERMARKED_SIZES or size.preset is not None:
                    # an artwork's preset outputs (normal, hq) are public and bigger than a
                    # grid tile: they carry the mark as its display does
                    variant = apply_watermark(variant, watermark)
                variant = variant.copy_memory()
                # a named output with formats of its own (a preset's) is made in those alone
                jobs.extend((bg, size, variant, fmt) for fmt in (size.formats if bg == "original" and size.formats
                                                                 else formats))
    except pyvips.Error as e:
        raise ImageProcessingError(f"{info.path.name}: resizing failed: {error_detail(e)}") from e
    jobs.sort(key=lambda job: job[2].width * job[2].height * _ENCODE_COST[job[3]], reverse=True)

    def encode_one(job: tuple[str, Size, pyvips.Image, ImageFormat]) -> VariantFile:
        bg, size, variant, fmt = job
        data = encode(variant, fmt, avif_effort=avif_effort, size=size)
        path = out_dir / variant_file_name(stem, size.name, fmt, bg)
        try:
            write_atomic(path, data)
        except OSError as e:  # a disk problem is worth a retry
            raise ImageProcessingError(f"cannot write {path}: {e.strerror or e}") from e
        return VariantFile(size.name, fmt.value, bg, path, variant.width, variant.height, len(data))

    with ThreadPoolExecutor(max_workers=defaults.ENCODE_THREADS, thread_name_prefix="encode") as pool:
        futures = [pool.submit(encode_one, job) for job in jobs]
        wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            future.cancel()  # after a failure, the encodes not started yet never start
    finished = [f for f in futures if not f.cancelled()]
    written = [f.result() for f in finished if f.exception() is None]
    failure = next((f.exception() for f in finished if f.exception() is not None), None)
    if failure is not None:
        remove_quietly([v.path for v in written])
        if isinstance(failure, pyvips.Error):
            raise ImageProcessingError(f"{info.path.name}: encoding failed: {error_detail(failure)}") from failure
        raise failure
    order = size_order(data_type)
    written.sort(key=lambda v: (v.bg != "original", order[v.size], _FORMAT_ORDER[v.format]))
    return written
