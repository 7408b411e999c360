"""Process-wide libvips set-up: which loaders untrusted uploads may reach, and the cache.

libvips picks a loader by sniffing the content, so without an allowlist an "image" upload
can reach the SVG renderer, the matrix/CSV text loaders, ``vipsload`` and whatever else the
build carries. :func:`configure_libvips` blocks every loader and unblocks only the web formats
the platform accepts, then proves the block is active (it is a silent no-op before libvips
8.13, see GOTCHAS).
"""

from __future__ import annotations

import logging
import threading

import pyvips

from media_vm.exceptions import ImageProcessingError

logger = logging.getLogger(__name__)

#: libvips loader classes that stay reachable. Blocking/unblocking a class applies to its
#: subclasses, i.e. the file, buffer and source variants (``jpegload``, ``jpegload_buffer``,
#: ``jpegload_source``...). ``VipsForeignLoadUhdr`` (Ultra HDR JPEG) stays blocked on purpose:
#: those files then open with the plain JPEG loader, which gives their SDR base image.
ALLOWED_LOADER_CLASSES: tuple[str, ...] = (
    "VipsForeignLoadJpeg",
    "VipsForeignLoadPng",
    "VipsForeignLoadWebp",
    "VipsForeignLoadNsgif",  # GIF
    "VipsForeignLoadHeif",  # AVIF and HEIC
    "VipsForeignLoadTiff",
)

#: Loader nicknames (as reported in the ``vips-loader`` field, without the ``_source`` /
#: ``_buffer`` suffix) that the allowlist lets through; checked again on every open.
ALLOWED_LOADERS: frozenset[str] = frozenset({"jpegload", "pngload", "webpload", "gifload", "heifload", "tiffload"})

_MIN_LIBVIPS = (8, 13)

# Inputs that this libvips build would load if the block were not active: a 2x2 libvips
# matrix file (text, sniffed by ``matrixload_source``) and a tiny SVG (``svgload_buffer``).
_PROBE_MATRIX = b"2 2\n0 0\n0 0\n"
_PROBE_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>'

_lock = threading.Lock()
_configured = False


def libvips_version() -> tuple[int, int, int]:
    """The version of the libvips that pyvips loaded."""
    return (pyvips.version(0), pyvips.version(1), pyvips.version(2))


def configure_libvips(*, concurrency: int | None = None, cache_max: int = 0) -> None:
    """Restrict loaders to the allowlist, block untrusted operations and size the cache.

    Idempotent and thread-safe; call once per process (after any fork) before touching an
    image. The loader block is applied by the first call only; later calls adjust the cache
    and concurrency.
    ``concurrency`` sets libvips' worker threads per pipeline (``None`` keeps libvips'
    default, ``VIPS_CONCURRENCY`` or the CPU count); ``cache_max`` is the operation cache
    size, 0 (off) by default because a long-running worker never sees the same input twice.

    Raises :class:`ImageProcessingError` if this libvips cannot enforce the allowlist.
    """
    global _configured
    with _lock:
        if libvips_version()[:2] < _MIN_LIBVIPS:
            found = ".".join(map(str, libvips_version()))
            needed = ".".join(map(str, _MIN_LIBVIPS))
            raise ImageProcessingError(f"libvips {found} cannot block loaders (needs {needed}+)")
        if not _configured:
            # Once only: blocking every loader and unblocking the allowed ones is not atomic, so
            # doing it again while another thread opens an image would make that open see no
            # loader at all (a valid JPEG refused as "not a supported format" under load).
            pyvips.block_untrusted_set(True)
            pyvips.operation_block_set("VipsForeignLoad", True)
            for name in ALLOWED_LOADER_CLASSES:
                pyvips.operation_block_set(name, False)
        pyvips.cache_set_max(cache_max)
        if cache_max == 0:
            pyvips.cache_set_max_mem(0)
            pyvips.cache_set_max_files(0)
        if concurrency is not None:
            if concurrency < 1:
                raise ValueError(f"concurrency must be >= 1, got {concurrency}")
            pyvips.concurrency_set(concurrency)
        verify_loader_block()
        pyvips_log = logging.getLogger("pyvips")
        if pyvips_log.level == logging.NOTSET:
            # libvips reports every pipeline step at INFO; keep its warnings, unless told otherwise.
            pyvips_log.setLevel(logging.WARNING)
        if not _configured:
            logger.info(
                "libvips %d.%d.%d configured: loaders %s, cache %d",
                *libvips_version(),
                ", ".join(sorted(ALLOWED_LOADERS)),
                cache_max,
            )
        _configured = True


def ensure_configured() -> None:
    """Configure libvips with the defaults unless someone already did: safety never depends on a caller."""
    if not _configured:
        configure_libvips()


def verify_loader_block() -> None:
    """Prove that loaders outside the allowlist are refused; raise ImageProcessingError if not."""
    probes = {
        "matrix": lambda: pyvips.Image.new_from_source(pyvips.Source.new_from_memory(_PROBE_MATRIX), ""),
        "svg": lambda: pyvips.Image.new_from_buffer(_PROBE_SVG, ""),
    }
    for kind, load in probes.items():
        try:
            load()
        except pyvips.Error:
            continue
        raise ImageProcessingError(f"libvips loader allowlist is not enforced: a {kind} file still loads")


def loader_family(loader: str) -> str:
    """``jpegload_source`` -> ``jpegload``: the loader's name without its file/buffer/source suffix."""
    for suffix in ("_source", "_buffer", "_file"):
        if loader.endswith(suffix):
            return loader[: -len(suffix)]
    return loader
