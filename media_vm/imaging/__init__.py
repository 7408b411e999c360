"""The media VM's image pipeline: the only code in the project that imports pyvips.

Call :func:`configure_libvips` once per process (after any fork), then
:func:`make_variants` and :func:`analyse_file` on untrusted files. Errors are
:class:`~media_vm.exceptions.ImageRejected` (the input's fault, never retry) or
:class:`~media_vm.exceptions.ImageProcessingError` (may be retried).

The names below are imported on first use: the main API's upload gate imports
:mod:`.judging` alone, and must not pay for OpenCV and the analysis it never runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from media_vm.imaging.analysis import Analysis, analyse, analyse_file, measure_focus
    from media_vm.imaging.cropping import crop_focus
    from media_vm.imaging.loading import SourceInfo, open_image, probe
    from media_vm.imaging.security import configure_libvips
    from media_vm.imaging.variants import VariantFile, make_variants, variant_file_name

#: public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "Analysis": "analysis",
    "analyse": "analysis",
    "analyse_file": "analysis",
    "measure_focus": "analysis",
    "crop_focus": "cropping",
    "SourceInfo": "loading",
    "open_image": "loading",
    "probe": "loading",
    "configure_libvips": "security",
    "VariantFile": "variants",
    "make_variants": "variants",
    "variant_file_name": "variants",
}

__all__ = [
    "Analysis",
    "SourceInfo",
    "VariantFile",
    "analyse",
    "analyse_file",
    "configure_libvips",
    "crop_focus",
    "make_variants",
    "measure_focus",
    "open_image",
    "probe",
    "variant_file_name",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
