"""The one safe way to open an untrusted image file.

Two steps, so nothing is decoded before it is judged:

1. :func:`probe` reads the header only: which loader sniffed the content (it must be on the
   allowlist of :mod:`.security`), the upright dimensions, and the pixel count against
   ``max_pixels`` (one page of a multi-page file). A decompression bomb stops here.
2. :func:`decode` decodes the first page into memory with ``thumbnail`` (shrink-on-load to
   the box the caller needs, EXIF orientation applied, ICC profile honoured), then
   normalises to 8-bit sRGB with alpha only where it is real. Corrupt or truncated data
   fails here (``fail_on``), never later while a variant is being written.

Files are opened as a libvips *source*, not by name: ``new_from_file`` and ``thumbnail``
parse ``name.jpg[option=...]`` suffixes out of a file name, a source does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyvips

from media_vm.exceptions import ImageProcessingError, ImageRejected
from media_vm.imaging.colour_space import drop_opaque_alpha, to_srgb8
from media_vm.imaging.defaults import DEFAULT_MAX_PIXELS
from media_vm.imaging.security import ALLOWED_LOADERS, ensure_configured, loader_family

#: ``fail_on`` level per loader family; others use :data:`FAIL_ON_DEFAULT`. "error" makes a
#: truncated or corrupt file fail instead of decoding to grey garbage. GIF is stricter: its
#: loader scans every frame while reading the header, and a frame it cannot parse (as in the
#: corpus' invalid_multiframe.gif) is only a *warning* there; such a file is corrupt.
FAIL_ON_DEFAULT = "error"
FAIL_ON_BY_LOADER: dict[str, str] = {"gifload": "warning"}

#: Loaders that take ``n``/``page``: we load the first page (frame) only.
PAGED_LOADERS: frozenset[str] = frozenset({"gifload", "webpload", "heifload", "tiffload"})

_FORMAT_BY_LOADER: dict[str, str] = {
    "jpegload": "jpeg",
    "pngload": "png",
    "webpload": "webp",
    "gifload": "gif",
    "tiffload": "tiff",
}

_ACCEPTED = "JPEG, PNG, WebP, GIF, AVIF/HEIC, TIFF"


@dataclass(frozen=True)
class SourceInfo:
    """What the header of an accepted file says. Dimensions are upright (orientation applied)."""

    path: Path
    loader: str  #: loader family, e.g. ``jpegload``
    format: str  #: ``jpeg``, ``png``, ``webp``, ``gif``, ``avif``, ``heic`` or ``tiff``
    width: int
    height: int
    orientation: int  #: EXIF orientation 1-8 (1 when absent)
    pages: int  #: frames/pages in the file; only the first is used
    camera: str | None  #: EXIF "Make Model" when present


def probe(source: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> SourceInfo:
    """Read and judge the header of ``source`` without decoding pixels.

    Raises :class:`ImageRejected` for an unsupported or unreadable format, or more than
    ``max_pixels`` pixels; :class:`ImageProcessingError` if the file cannot be read at all.
    """
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be positive, got {max_pixels}")
    ensure_configured()
    source = Path(source)
    header = _read_header(source, f"fail_on={FAIL_ON_DEFAULT}")
    loader = loader_family(str(header.get("vips-loader")))
    if loader not in ALLOWED_LOADERS:  # the block is verified at start-up; this is belt and braces
        raise ImageRejected(f"{source.name}: {loader} files are not accepted (accepted: {_ACCEPTED})")
    if loader in FAIL_ON_BY_LOADER:
        header = _read_header(source, f"fail_on={FAIL_ON_BY_LOADER[loader]}")

    width, height = header.width, header.height
    orientation = _int_field(header, "orientation", 1)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    pixels = width * height
    if pixels > max_pixels:
        raise ImageRejected(
            f"{source.name}: image is {width}x{height} = {pixels / 1e6:.1f} MP, "
            f"over the {max_pixels / 1e6:.1f} MP limit"
        )
    return SourceInfo(
        path=source,
        loader=loader,
        format=_format_name(loader, header),
        width=width,
        height=height,
        orientation=orientation if 1 <= orientation <= 8 else 1,
        pages=max(1, _int_field(header, "n-pages", 1)),
        camera=_camera(header),
    )


def decode(info: SourceInfo, *, fit: tuple[int, int] | None = None) -> pyvips.Image:
    """Decode the first page of a probed file into memory: upright, 8-bit sRGB, real alpha only.

    ``fit`` is a (width, height) box to shrink into while loading (never enlarged); ``None``
    keeps the full size. Raises :class:`ImageRejected` when the pixel data is corrupt or
    truncated.
    """
    box_w, box_h = fit if fit is not None else (info.width, info.height)
    if box_w < 1 or box_h < 1:
        raise ValueError(f"fit box must be positive, got {box_w}x{box_h}")
    fail_on = FAIL_ON_BY_LOADER.get(info.loader, FAIL_ON_DEFAULT)
    # thumbnail_source ignores its own fail_on argument in libvips 8.18: pass it to the
    # loader in option_string, where it is honoured (tests/media_vm/imaging prove it).
    options = f"fail_on={fail_on}" + (",n=1" if info.loader in PAGED_LOADERS else "")
    try:
        # output_profile: without it thumbnail leaves an image with an embedded profile (Display
        # P3 phone photos, XYB JPEGs) in its own colour space with the profile attached; with it,
        # such images are transformed to sRGB, so the profile can then go.
        thumb = pyvips.Image.thumbnail_source(
            _source(info.path),
            box_w,
            height=box_h,
            size="down",
            option_string=options,
            fail_on=fail_on,
            output_profile="srgb",
            intent="relative",
        )
        loader = loader_family(str(thumb.get("vips-loader")))
        if loader != info.loader:
            raise ImageRejected(f"{info.path.name}: changed while being read ({info.loader} -> {loader})")
        if thumb.get_typeof("icc-profile-data"):
            thumb = thumb.copy()
            thumb.remove("icc-profile-data")
        image = to_srgb8(thumb).copy_memory()
    except pyvips.Error as e:
        raise ImageRejected(f"{info.path.name}: cannot decode {info.format} data: {error_detail(e)}") from e
    return drop_opaque_alpha(image)


def open_image(
    source: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS, fit: tuple[int, int] | None = None
) -> pyvips.Image:
    """Probe, then decode ``source``: the in-memory, upright, 8-bit sRGB first page.

    :func:`probe` then :func:`decode` in one call (callers that need the header first, to
    choose the ``fit`` box, call the two themselves).
    """
    return decode(probe(source, max_pixels=max_pixels), fit=fit)


def error_detail(error: pyvips.Error) -> str:
    """The useful part of a libvips error: its last distinct lines, without the call chain.

    libvips' error buffer is process-wide and can still hold lines from earlier operations,
    so only the tail is kept for the human message (the whole error stays chained).
    """
    lines = [line.strip() for line in (error.detail or str(error)).splitlines() if line.strip()]
    tail: list[str] = []
    for line in reversed(lines):
        if line not in tail:
            tail.insert(0, line)
        if len(tail) == 2:
            break
    return "; ".join(tail) or str(error.message).strip()


def _read_header(path: Path, options: str) -> pyvips.Image:
    try:
        return pyvips.Image.new_from_source(_source(path), options)
    except pyvips.Error as e:
        detail = error_detail(e)
        if "not in a known format" in detail:
            raise ImageRejected(f"{path.name}: not a supported image format (accepted: {_ACCEPTED})") from e
        raise ImageRejected(f"{path.name}: cannot read image header: {detail}") from e


def _source(path: Path) -> pyvips.Source:
    if not path.is_file():
        raise ImageProcessingError(f"{path}: no such file")
    try:
        return pyvips.Source.new_from_file(str(path))
    except pyvips.Error as e:
        raise ImageProcessingError(f"{path}: cannot open: {error_detail(e)}") from e


def _format_name(loader: str, header: pyvips.Image) -> str:
    if loader == "heifload":
        compression = str(header.get("heif-compression")) if header.get_typeof("heif-compression") else ""
        return "avif" if compression == "av1" else "heic"
    return _FORMAT_BY_LOADER[loader]


def _int_field(image: pyvips.Image, name: str, default: int) -> int:
    if not image.get_typeof(name):
        return default
    try:
        return int(image.get(name))
    except (TypeError, ValueError):
        return default


def _camera(image: pyvips.Image) -> str | None:
    parts = []
    for field in ("exif-ifd0-Make", "exif-ifd0-Model"):
        if image.get_typeof(field):
            # libvips renders EXIF strings as "value (value, ASCII, n components, n bytes)".
            value = str(image.get(field)).split(" (", 1)[0].strip()
            if value:
                parts.append(value)
    return " ".join(parts) or None
