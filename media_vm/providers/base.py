"""The vision provider interface: one picture in, fields for the analysis (and the raw answer) out.

The local analyser (:mod:`.local`) is always on and comes first; remote providers
(:mod:`.google_vision`, :mod:`.openai_vision`) are switched on by their API keys and add
to what it measured (see :func:`media_vm.providers.merge` for how). A remote provider
that fails, times out or answers nonsense raises :class:`ProviderError`; the image goes
on and the failure is recorded in ``analysis["providers"]``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ProviderRequest:
    """What a provider gets: the original on disk, its data type, and a lazily made JPEG
    preview (<= 1024 px, upright sRGB) for providers that send the picture somewhere."""

    source: Path
    data_type: str
    max_pixels: int
    preview: Callable[[], bytes]
    _preview_bytes: bytes | None = field(default=None, repr=False)

    def jpeg(self) -> bytes:
        if self._preview_bytes is None:
            self._preview_bytes = self.preview()
        return self._preview_bytes


@dataclass(frozen=True)
class ProviderAnswer:
    """Fields to merge into the analysis, and the raw answer to keep (JSON-serialisable)."""

    fields: dict[str, Any]
    raw: Any = None


class VisionProvider(ABC):
    """A source of analysis fields. ``raw_field`` names the analysis key (and the
    ``media_ai_analysis`` column) that keeps the provider's raw answer, if any."""

    name: str = ""
    raw_field: str | None = None

    @abstractmethod
    def annotate(self, request: ProviderRequest) -> ProviderAnswer:
        """Look at the picture; raise :class:`ProviderError` when there is no usable answer."""
