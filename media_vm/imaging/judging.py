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

This module is imported by the main API (``main_api.media.intake.gate``): it pulls in libvips,
numpy and pillow-heif, never OpenCV or the rest of the pipeline.
"""

from __future__ import annotations

from pathlib import Path

from media_vm.imaging.defaults import DEFAULT_MAX_FRAMES, DEFAULT_MAX_PIXELS, JUDGE_BOX
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
) -> SourceInfo:
    """Accept ``source`` (a file or its bytes) by decoding it as the VM does, or raise.

    Returns the header's :class:`~.loading.SourceInfo` (upright ``width`` x ``height``,
    ``format``, ``pages``). Raises what :func:`.loading.probe` and :func:`.loading.decode`
    raise: :class:`~media_vm.exceptions.UnsupportedFormat`,
    :class:`~media_vm.exceptions.PixelLimitExceeded`,
    :class:`~media_vm.exceptions.FrameLimitExceeded`, or
    :class:`~media_vm.exceptions.ImageRejected` for corrupt or truncated data.
    """
    info = probe(source, max_pixels=max_pixels, max_frames=max_frames, name=name)
    decode(info, fit=None if info.format in FULL_DECODE_FORMATS else (JUDGE_BOX, JUDGE_BOX))
    return info
