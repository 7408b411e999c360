"""The default provider: the local, model-free analysis of :mod:`media_vm.imaging.analysis`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from media_vm.providers.base import ProviderAnswer, ProviderRequest, VisionProvider

if TYPE_CHECKING:
    from media_vm.imaging import Analysis


class LocalProvider(VisionProvider):
    """Always on, no network: every field measured on the pixels (colours, quality, faces,
    attention, Tesseract OCR where installed, style/medium/kind, fingerprint)."""

    name = "local"

    def __init__(self, *, tesseract_cmd: str | None = "tesseract") -> None:
        self.tesseract_cmd = tesseract_cmd or None

    def analyse(self, source: Path, *, data_type: str, max_pixels: int) -> Analysis:
        """The full local result: fields, fingerprint, SHA-256 and the decoded analysis copy."""
        from media_vm.imaging import analyse

        return analyse(source, data_type=data_type, max_pixels=max_pixels, tesseract_cmd=self.tesseract_cmd)

    def annotate(self, request: ProviderRequest) -> ProviderAnswer:
        analysis = self.analyse(request.source, data_type=request.data_type, max_pixels=request.max_pixels)
        return ProviderAnswer(analysis.fields)
