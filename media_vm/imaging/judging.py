"""One verdict on an untrusted image, for the main API's upload gate and the media VM alike.

:func:`judge` is :func:`.loading.probe` (the loader allow-list, the pixel and frame limits,
all from the header) followed by :func:`.loading.decode` of the first page: the same code,
``fail_on`` levels and decoders the VM turns the file into variants with, so a file the gate
accepts is one the VM can process, and a file the VM can process (a PNG with a damaged
ancillary chunk, megabytes of compressed XMP, an iPhone HEIC) is one the gate accepts.

Only the decode box differs, to keep the gate cheap: :data:`.defaults.JUDGE_BOX` for formats
that read all their compressed data on the way to a small image (JPEG and WebP shrink on load,
PNG and GIF decode every row), the full size for TIFF and HEIF (a TIFF pyramid or a HEIF
thumbnail would let a small box skip the main image). The pixels are thrown away.

Across the service line the verdict is a value, not an exception: the main API's upload gate
calls :func:`verdict` and gets an :class:`Accepted` (upright size and type) or a
:class:`Refused` (a :class:`RefusalReason`, a message, and the limit and the measured figure
where there is one); it imports nothing of ``media_vm.exceptions``. Inside the VM :func:`judge`
and its exceptions stay.

This module is imported by the main API (``main_api.media.intake.gate``): it pulls in libvips,
numpy and pillow-heif, never OpenCV or the rest of the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TypeAlias

from media_vm.exceptions import (
    FrameLimitExceeded,
    ImageRejected,
    NoStillImage,
    PixelLimitExceeded,
    ScanLimitExceeded,
    UnsupportedFormat,
)
from media_vm.imaging.defaults import DEFAULT_MAX_FRAMES, DEFAULT_MAX_JPEG_SCANS, DEFAULT_MAX_PIXELS, JUDGE_BOX
from media_vm.imaging.loading import SourceInfo, decode, probe

#: Formats decoded at full size by :func:`judge` (see the module doc).
FULL_DECODE_FORMATS: frozenset[str] = frozenset({"tiff", "avif", "heic"})

#: The mime type of each format :func:`.loading.probe` names.
MIME_TYPES: dict[str, str] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "tiff": "image/tiff",
    "avif": "image/avif",
    "heic": "image/heif",
}


def judge(
    source: Path | bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_frames: int = DEFAULT_MAX_FRAMES,
    name: str | None = None,
    max_jpeg_scans: int = DEFAULT_MAX_JPEG_SCANS,
) -> SourceInfo:
    """Accept ``source`` (a file or its bytes) by decoding it as the VM does, or raise.

    Returns the header's :class:`~.loading.SourceInfo` (upright ``width`` x ``height``,
    ``format``, ``pages``). Raises what :func:`.loading.probe` and :func:`.loading.decode`
    raise: :class:`~media_vm.exceptions.UnsupportedFormat`,
    :class:`~media_vm.exceptions.PixelLimitExceeded`,
    :class:`~media_vm.exceptions.FrameLimitExceeded`,
    :class:`~media_vm.exceptions.ScanLimitExceeded` (a JPEG scan bomb, before any decoding), or
    :class:`~media_vm.exceptions.ImageRejected` for corrupt or truncated data.
    """
    info = probe(source, max_pixels=max_pixels, max_frames=max_frames, name=name, max_jpeg_scans=max_jpeg_scans)
    decode(info, fit=None if info.format in FULL_DECODE_FORMATS else (JUDGE_BOX, JUDGE_BOX))
    return info


class RefusalReason(str, Enum):
    """Why :func:`verdict` refused a file: the kind of refusal, for the caller to word."""

    #: The header declares more pixels (one page, upright) than ``max_pixels``: a decompression bomb.
    PIXELS = "pixels"
    #: An animation or multi-page file with more frames than ``max_frames``.
    FRAMES = "frames"
    #: A JPEG with more scans than ``max_jpeg_scans``: a scan bomb, counted before decoding.
    SCANS = "scans"
    #: An image sequence (animated AVIF) with no still image or first frame that decodes.
    NO_STILL_IMAGE = "no_still_image"
    #: Not a format of the loader allow-list (SVG, PDF, a matrix file, ... or not an image at all).
    UNSUPPORTED = "unsupported"
    #: An accepted format whose header or first page does not decode: corrupt or truncated.
    UNDECODABLE = "undecodable"


@dataclass(frozen=True)
class Accepted:
    """A file :func:`verdict` accepts: what its header says, upright (orientation applied)."""

    #: Pixels, of the first page, upright.
    width: int
    height: int
    #: ``jpeg``, ``png``, ``webp``, ``gif``, ``tiff``, ``avif`` or ``heic`` (the loader's family).
    format: str
    #: The format's media type (:data:`MIME_TYPES`): ``image/jpeg``, ..., ``image/heif`` for HEIC.
    mime_type: str
    #: Frames or pages in the file (1 for a still image); only the first is used.
    pages: int


@dataclass(frozen=True)
class Refused:
    """A file :func:`verdict` refuses. The figures are set for the reason they belong to and
    None otherwise: ``limit`` (the ``max_pixels`` or ``max_frames`` passed), ``width`` and
    ``height`` (the header's, upright, for :attr:`RefusalReason.PIXELS`), ``frames`` (the
    header's count, for :attr:`RefusalReason.FRAMES`), ``scans`` (for :attr:`RefusalReason.SCANS`:
    where counting stopped, ``limit + 1``: the rest of the file is not walked)."""

    reason: RefusalReason
    #: The VM's own words, naming the file by the ``name`` given (for logs, not for end users).
    message: str
    limit: int | None = None
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    scans: int | None = None


#: What :func:`verdict` returns.
Verdict: TypeAlias = Accepted | Refused


def verdict(
    source: Path | bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_frames: int = DEFAULT_MAX_FRAMES,
    name: str | None = None,
    max_jpeg_scans: int = DEFAULT_MAX_JPEG_SCANS,
) -> Verdict:
    """:func:`judge` as a value: :class:`Accepted` or :class:`Refused` for ``source`` (a file or
    its bytes; ``name`` names it in messages), by the same decoding as the VM's and the limits
    ``max_pixels`` (width x height of one upright page), ``max_frames`` and ``max_jpeg_scans``.

    Never raises for what the file is (every :class:`~media_vm.exceptions.ImageRejected`
    becomes a :class:`Refused`). Raises :class:`ValueError` for a limit that is not positive and
    :class:`~media_vm.exceptions.ImageProcessingError` when the machine, not the file, fails (a
    path that cannot be read)."""
    try:
        info = judge(source, max_pixels=max_pixels, max_frames=max_frames, name=name, max_jpeg_scans=max_jpeg_scans)
    except PixelLimitExceeded as e:
        return Refused(RefusalReason.PIXELS, str(e), limit=e.limit, width=e.width, height=e.height)
    except FrameLimitExceeded as e:
        return Refused(RefusalReason.FRAMES, str(e), limit=e.limit, frames=e.frames)
    except ScanLimitExceeded as e:
        return Refused(RefusalReason.SCANS, str(e), limit=e.limit, scans=e.scans)
    except NoStillImage as e:
        return Refused(RefusalReason.NO_STILL_IMAGE, str(e))
    except UnsupportedFormat as e:
        return Refused(RefusalReason.UNSUPPORTED, str(e))
    except ImageRejected as e:
        return Refused(RefusalReason.UNDECODABLE, str(e))
    return Accepted(width=info.width, height=info.height, format=info.format, mime_type=MIME_TYPES[info.format],
                    pages=info.pages)
