"""The media VM's image pipeline: the only code in the project that imports pyvips.

Call :func:`configure_libvips` once per process (after any fork), then
:func:`make_variants` and :func:`analyse_file` on untrusted files. Errors are
:class:`~media_vm.exceptions.ImageRejected` (the input's fault, never retry) or
:class:`~media_vm.exceptions.ImageProcessingError` (may be retried).
"""

from __future__ import annotations

from media_vm.imaging.analysis import Analysis, analyse, analyse_file
from media_vm.imaging.cropping import crop_focus
from media_vm.imaging.loading import SourceInfo, open_image, probe
from media_vm.imaging.security import configure_libvips
from media_vm.imaging.variants import VariantFile, make_variants, variant_file_name

__all__ = [
    "Analysis",
    "SourceInfo",
    "analyse",
    "VariantFile",
    "analyse_file",
    "configure_libvips",
    "crop_focus",
    "make_variants",
    "open_image",
    "probe",
    "variant_file_name",
]
