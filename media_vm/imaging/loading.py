"""The one safe way to open an untrusted image file.

Two steps, so nothing is decoded before it is judged:

1. :func:`probe` reads the header only: which loader sniffed the content (it must be on the
   allowlist of :mod:`.security`), the upright dimensions, the pixel count against
   ``max_pixels`` (one page of a multi-page file), the frame count against ``max_frames``,
   and the colour the file signals outside an ICC profile (:mod:`.colour_signals`). A
   decompression bomb stops here.
2. :func:`decode` decodes the first page into memory with ``thumbnail`` (shrink-on-load to
   the box the caller needs, EXIF orientation applied, ICC profile honoured), converts
   CICP/PNG-chunk colour to sRGB (:func:`.colour_space.signalled_to_srgb8`), then normalises
   to 8-bit sRGB with alpha only where it is real. Corrupt or truncated data fails here
   (``fail_on``), never later while a variant is being written.

HEIC (HEVC-coded HEIF) is the one format libvips cannot decode here (``pyvips-binary`` has no
HEVC decoder): its header is still read and judged by libvips' ``heifload``, then its pixels
are decoded by libheif + libde265 from the ``pillow-heif`` wheel and handed to libvips. libheif
applies the ``irot``/``imir`` transforms, as libvips' ``heifload`` does for AVIF; the EXIF
orientation of a HEIF is informational and applied by neither (HEIF, ISO/IEC 23008-12 6.5.1).

The upload gate of the main API judges with this same code (:mod:`.judging`). Files are
opened as a libvips *source*, not by name: ``new_from_file`` and ``thumbnail`` parse
``name.jpg[option=...]`` suffixes out of a file name, a source does not; bytes in memory (an
upload) are a source too.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pyvips

from media_vm.exceptions import (
    FrameLimitExceeded,
    ImageProcessingError,
    ImageRejected,
    PixelLimitExceeded,
    ScanLimitExceeded,
    UnsupportedFormat,
)
from media_vm.imaging import avif_range, avif_sequence, webp_alpha
from media_vm.imaging.colour_signals import heif_colour_signal, png_colour_signal
from media_vm.imaging.colour_space import ColourSignal, drop_opaque_alpha, signalled_to_srgb8, to_srgb8
from media_vm.imaging.defaults import DEFAULT_MAX_FRAMES, DEFAULT_MAX_JPEG_SCANS, DEFAULT_MAX_PIXELS
from media_vm.imaging.hdr import hdr_to_srgb8
from media_vm.imaging.jpeg_scans import count_scans
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
    #: colour signalled outside an ICC profile (CICP, PNG gAMA/cHRM), ``None`` for sRGB or ICC
    colour: ColourSignal | None = None
    #: an embedded ICC profile or CMYK pixels: libvips' colour management has work to do
    managed: bool = False
    #: the file's bytes when it was probed from memory (``path`` is then only its name)
    data: bytes | None = dataclasses.field(default=None, repr=False)
    #: the raw EXIF block libvips found in the header (any format), ``None`` without one
    exif: bytes | None = dataclasses.field(default=None, repr=False)


def probe(
    source: Path | bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_frames: int = DEFAULT_MAX_FRAMES,
    name: str | None = None,
    max_jpeg_scans: int = DEFAULT_MAX_JPEG_SCANS,
) -> SourceInfo:
    """Read and judge the header of ``source`` (a file, or the bytes of one) without decoding
    pixels. ``name`` names bytes in messages (default ``upload``).

    Raises :class:`UnsupportedFormat` for a format outside the allow-list,
    :class:`PixelLimitExceeded` past ``max_pixels`` (width x height of one upright page),
    :class:`FrameLimitExceeded` past ``max_frames``, :class:`ScanLimitExceeded` for a JPEG of
    more than ``max_jpeg_scans`` scans (:mod:`.jpeg_scans`, counted without decoding),
    :class:`ImageRejected` for an unreadable header; :class:`ImageProcessingError` if the file
    cannot be read at all.
    """
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be positive, got {max_pixels}")
    if max_frames < 1:
        raise ValueError(f"max_frames must be positive, got {max_frames}")
    if max_jpeg_scans < 1:
        raise ValueError(f"max_jpeg_scans must be positive, got {max_jpeg_scans}")
    ensure_configured()
    if isinstance(source, bytes | bytearray | memoryview):
        data: bytes | None = bytes(source)
        path = Path(name or "upload")
    else:
        data, path = None, Path(source)
    try:
        header = _read_header(path, data, f"fail_on={FAIL_ON_DEFAULT}")
    except UnsupportedFormat:
        sequence = _avif_sequence_info(path, data, max_pixels, max_frames)
        if sequence is None:
            raise
        return sequence
    loader = loader_family(str(header.get("vips-loader")))
    if loader not in ALLOWED_LOADERS:  # the block is verified at start-up; this is belt and braces
        raise UnsupportedFormat(f"{path.name}: {loader} files are not accepted (accepted: {_ACCEPTED})")
    if loader in FAIL_ON_BY_LOADER:
        header = _read_header(path, data, f"fail_on={FAIL_ON_BY_LOADER[loader]}")

    width, height = header.width, header.height
    orientation = _int_field(header, "orientation", 1)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    pixels = width * height
    if pixels > max_pixels:
        raise PixelLimitExceeded(
            f"{path.name}: image is {width}x{height} = {pixels / 1e6:.1f} MP, "
            f"over the {max_pixels / 1e6:.1f} MP limit",
            width=width,
            height=height,
            limit=max_pixels,
        )
    pages = max(1, _int_field(header, "n-pages", 1))
    if pages > max_frames:
        raise FrameLimitExceeded(
            f"{path.name}: {pages} frames, over the limit of {max_frames}", frames=pages, limit=max_frames
        )
    if loader == "jpegload":
        _check_jpeg_scans(path, data, max_jpeg_scans)
    return SourceInfo(
        path=path,
        loader=loader,
        format=_format_name(loader, header),
        width=width,
        height=height,
        orientation=orientation if 1 <= orientation <= 8 else 1,
        pages=pages,
        camera=_camera(header),
        colour=None if header.get_typeof("icc-profile-data") else _colour_signal(loader, path, data),
        managed=bool(header.get_typeof("icc-profile-data")) or header.interpretation == "cmyk",
        data=data,
        exif=bytes(header.get("exif-data")) if header.get_typeof("exif-data") else None,
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
    if info.format == "heic":
        return _decode_heic(info, box_w, box_h)
    if info.loader == avif_sequence.LOADER:
        return _decode_avif_sequence(info, box_w, box_h)
    fail_on = FAIL_ON_BY_LOADER.get(info.loader, FAIL_ON_DEFAULT)
    if info.format == "avif":  # limited-range grey or alpha that libheif leaves as it is
        planes = avif_range.limited_planes(_stream(info).read())
        if planes:
            return _decode_avif_limited(info, box_w, box_h, planes, fail_on)
    # thumbnail_source ignores its own fail_on argument in libvips 8.18: pass it to the
    # loader in option_string, where it is honoured (tests/media_vm/imaging prove it).
    options = f"fail_on={fail_on}" + (",n=1" if info.loader in PAGED_LOADERS else "")
    try:
        # output_profile: without it thumbnail leaves an image with an embedded profile (Display
        # P3 phone photos, XYB JPEGs) in its own colour space with the profile attached; with it,
        # such images are transformed to sRGB, so the profile can then go.
        # (only then: on a file without a profile it would be an sRGB -> sRGB lcms transform,
        # which cost 0.85 s on a 2 MP image for nothing)
        managed = {"output_profile": "srgb", "intent": "relative"} if info.managed else {}
        # held here until the pixels are in memory: libvips reads a memory source lazily
        content = _webp_with_alpha(info) if info.loader == "webpload" else info.data
        thumb = pyvips.Image.thumbnail_source(
            _source(info.path, content),
            box_w,
            height=box_h,
            size="down",
            option_string=options,
            fail_on=fail_on,
            **managed,
        )
        loader = loader_family(str(thumb.get("vips-loader")))
        if loader != info.loader:
            raise ImageRejected(f"{info.path.name}: changed while being read ({info.loader} -> {loader})")
        if thumb.get_typeof("icc-profile-data"):
            thumb = thumb.copy()
            thumb.remove("icc-profile-data")
        image = _finish(thumb, info.colour)
    except pyvips.Error as e:
        raise ImageRejected(f"{info.path.name}: cannot decode {info.format} data: {error_detail(e)}") from e
    return drop_opaque_alpha(image)


def _finish(image: pyvips.Image, colour: ColourSignal | None) -> pyvips.Image:
    """Decoded pixels (ICC already applied, if any) to in-memory 8-bit sRGB."""
    if colour is not None and colour.is_hdr and image.bands in (1, 2, 3, 4) and image.format in ("uchar", "ushort"):
        return hdr_to_srgb8(image, colour).copy_memory()  # PQ/HLG: tone-mapped to SDR (imaging/hdr.py)
    if colour is not None and image.bands in (1, 2, 3, 4) and image.format in ("uchar", "ushort"):
        image = signalled_to_srgb8(image, colour)
    return to_srgb8(image).copy_memory()


def _decode_heic(info: SourceInfo, box_w: int, box_h: int) -> pyvips.Image:
    """HEVC-coded HEIF: libheif + libde265 (pillow-heif) decode the primary image, transforms
    (``irot``/``imir``) applied, then libvips shrinks it into the box and makes it sRGB (its
    ICC profile, or its CICP colour)."""
    try:
        import pillow_heif
    except ImportError as e:
        raise ImageRejected(
            f"{info.path.name}: HEIC (HEVC-coded HEIF) is not accepted on this host (no pillow-heif)"
        ) from e
    try:
        hdr = info.colour is not None and info.colour.is_hdr  # PQ/HLG: keep all 10-12 bits
        heif = pillow_heif.open_heif(_stream(info), convert_hdr_to_8bit=not hdr)
        pixels = np.asarray(heif)
        icc = heif.info.get("icc_profile")
    except (ValueError, RuntimeError, OSError, SyntaxError, EOFError) as e:
        raise ImageRejected(f"{info.path.name}: cannot decode heic data: {e}") from e
    if pixels.ndim != 3 or pixels.dtype not in (np.uint8, np.uint16) or pixels.shape[2] not in (3, 4):
        raise ImageRejected(f"{info.path.name}: cannot decode heic data: unexpected pixels {pixels.shape}")
    if (pixels.shape[1], pixels.shape[0]) != (info.width, info.height):
        raise ImageRejected(
            f"{info.path.name}: heic decodes to {pixels.shape[1]}x{pixels.shape[0]}, "
            f"its header says {info.width}x{info.height}"
        )
    try:
        image = pyvips.Image.new_from_array(np.ascontiguousarray(pixels)).copy(interpretation="srgb")
        if icc:
            image.set_type(pyvips.GValue.blob_type, "icc-profile-data", bytes(icc))
        if box_w < image.width or box_h < image.height:
            image = image.thumbnail_image(box_w, height=box_h, size="down")
        # to_srgb8 (in _finish) applies the embedded profile; CICP only counts without one
        return drop_opaque_alpha(_finish(image, None if icc else info.colour))
    except pyvips.Error as e:
        raise ImageProcessingError(f"{info.path.name}: heic pixels could not be processed: {error_detail(e)}") from e


def _decode_avif_limited(
    info: SourceInfo, box_w: int, box_h: int, planes: avif_range.LimitedPlanes, fail_on: str
) -> pyvips.Image:
    """An AVIF still whose grey or alpha samples are limited range (:mod:`.avif_range`): decoded
    at full size, expanded to full range, then shrunk into the box (alpha premultiplied with its
    real values) and made sRGB (its ICC profile, or its CICP colour)."""
    try:
        image = pyvips.Image.new_from_source(_source(info.path, info.data), f"fail_on={fail_on},n=1")
        image = avif_range.expand(image, planes)
        if box_w < image.width or box_h < image.height:
            image = image.thumbnail_image(box_w, height=box_h, size="down")
        icc = bool(image.get_typeof("icc-profile-data"))
        return drop_opaque_alpha(_finish(image, None if icc else info.colour))
    except pyvips.Error as e:
        raise ImageRejected(f"{info.path.name}: cannot decode {info.format} data: {error_detail(e)}") from e


def _webp_with_alpha(info: SourceInfo) -> bytes | None:
    """A lossless WebP's bytes with its alpha hint set (:mod:`.webp_alpha`), else ``info.data``."""
    if info.data is not None:
        return webp_alpha.with_alpha_hint(info.data)
    try:
        with info.path.open("rb") as stream:
            if not webp_alpha.needs_alpha_hint(stream.read(32)):
                return None
        return webp_alpha.with_alpha_hint(info.path.read_bytes())
    except OSError as e:
        raise ImageProcessingError(f"{info.path}: cannot read: {e.strerror or e}") from e


def _avif_sequence_info(path: Path, data: bytes | None, max_pixels: int, max_frames: int) -> SourceInfo | None:
    """The :class:`SourceInfo` of an animated AVIF (:mod:`.avif_sequence`), judged against the
    pixel and frame limits as every format is; ``None`` when the file is not one."""
    try:
        content = data if data is not None else path.read_bytes()
    except OSError as e:
        raise ImageProcessingError(f"{path}: cannot read: {e.strerror or e}") from e
    if not avif_sequence.is_avif_sequence(content[:64]):
        return None
    header = avif_sequence.read_header(content, path.name)
    pixels = header.width * header.height
    if pixels > max_pixels:
        raise PixelLimitExceeded(
            f"{path.name}: image is {header.width}x{header.height} = {pixels / 1e6:.1f} MP, "
            f"over the {max_pixels / 1e6:.1f} MP limit",
            width=header.width,
            height=header.height,
            limit=max_pixels,
        )
    if header.frames > max_frames:
        raise FrameLimitExceeded(
            f"{path.name}: {header.frames} frames, over the limit of {max_frames}",
            frames=header.frames,
            limit=max_frames,
        )
    return SourceInfo(path=path, loader=avif_sequence.LOADER, format="avif", width=header.width,
                      height=header.height, orientation=1, pages=header.frames, camera=None, data=content)


def _decode_avif_sequence(info: SourceInfo, box_w: int, box_h: int) -> pyvips.Image:
    """The first frame of an animated AVIF (libavif, through Pillow), shrunk into the box, sRGB."""
    image = avif_sequence.first_frame(info.data if info.data is not None else _stream(info).read(), info.path.name)
    try:
        if box_w < image.width or box_h < image.height:
            image = image.thumbnail_image(box_w, height=box_h, size="down")
        return drop_opaque_alpha(_finish(image, None))
    except pyvips.Error as e:
        raise ImageProcessingError(f"{info.path.name}: avif frame could not be processed: {error_detail(e)}") from e


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


def _read_header(path: Path, data: bytes | None, options: str) -> pyvips.Image:
    try:
        return pyvips.Image.new_from_source(_source(path, data), options)
    except pyvips.Error as e:
        detail = error_detail(e)
        if "not in a known format" in detail:
            raise UnsupportedFormat(f"{path.name}: not a supported image format (accepted: {_ACCEPTED})") from e
        raise ImageRejected(f"{path.name}: cannot read image header: {detail}") from e


def _check_jpeg_scans(path: Path, data: bytes | None, limit: int) -> None:
    """Refuse a JPEG of more than ``limit`` scans before a decoder makes a pass for each."""
    try:
        content = data if data is not None else path.read_bytes()
    except OSError as e:
        raise ImageProcessingError(f"{path}: cannot read: {e.strerror or e}") from e
    scans = count_scans(content, stop_after=limit)
    if scans > limit:
        raise ScanLimitExceeded(
            f"{path.name}: JPEG has more than {limit} scans (a progressive scan bomb: each scan is a "
            "full decoding pass)",
            scans=scans,
            limit=limit,
        )


def _colour_signal(loader: str, path: Path, data: bytes | None) -> ColourSignal | None:
    if loader not in ("pngload", "heifload"):
        return None
    try:
        with _open_stream(path, data) as stream:
            return png_colour_signal(stream) if loader == "pngload" else heif_colour_signal(stream)
    except OSError as e:
        raise ImageProcessingError(f"{path}: cannot read: {e.strerror or e}") from e


def _stream(info: SourceInfo) -> IO[bytes]:
    """The file's bytes as a binary stream (read whole: libheif wants them all anyway)."""
    if info.data is not None:
        return io.BytesIO(info.data)
    try:
        return io.BytesIO(info.path.read_bytes())
    except OSError as e:
        raise ImageProcessingError(f"{info.path}: cannot read: {e.strerror or e}") from e


def _open_stream(path: Path, data: bytes | None) -> IO[bytes]:
    return io.BytesIO(data) if data is not None else path.open("rb")


def _source(path: Path, data: bytes | None = None) -> pyvips.Source:
    if data is not None:
        return pyvips.Source.new_from_memory(data)
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
