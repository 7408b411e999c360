"""Variant sizes, their boxes and how each is fitted, presets, and output formats.

The sizes and presets come from the outputs configuration (``shared.outputs``: the built-in
``shared/outputs.toml``, or the file ``MEDIA_OUTPUTS_FILE`` names), read once when this module
is imported; the tables below are derived from it. Two kinds of sizes: display sizes (every
image is made in its data type's) and preset outputs (``normal``, ``hq``: made only for an
upload that names the tool, ``source_tool``). Fallback never crosses kinds.
"""

from __future__ import annotations

from shared.outputs import Fit, ImageFormat, OutputsConfigError, Size, current

__all__ = [
    "ALL_SIZES", "ARTWORK_SIZES", "BACKGROUNDS", "DEFAULT_SIZE", "NEGOTIATION_ORDER", "PRESET_OUTPUT_NAMES",
    "PRESETS", "SIZES", "SIZES_BY_NAME", "SIZE_NAMES", "SIZE_ORDER", "SOURCE_TOOLS", "WATERMARKED_SIZES", "Fit",
    "ImageFormat", "OutputsConfigError", "Size", "default_size_for", "nearest_size", "presets_for", "sizes_for",
]

_OUTPUTS = current()

#: The display sizes of an image of a data type the configuration does not name (by default
#: the contract's six), in the configured order (smallest first).
SIZES: tuple[Size, ...] = tuple(_OUTPUTS.sizes[name] for name in _OUTPUTS.data_types["default"])
#: The sizes of an artwork's image (by default ``icon``, ``thumbnail``, ``display``).
ARTWORK_SIZES: tuple[Size, ...] = tuple(
    _OUTPUTS.sizes[name] for name in _OUTPUTS.data_types.get("artwork", _OUTPUTS.data_types["default"])
)
DEFAULT_SIZE = "detail"
#: Sizes that carry the owner's watermark (``watermark`` of the pending list) in every format;
#: an image with a watermark has it on its preset outputs (``normal``, ``hq``) too. By default an
#: artwork has no unwatermarked size larger than ``grid``, so no size name and no fallback can
#: lead a public request to one.
WATERMARKED_SIZES: frozenset[str] = _OUTPUTS.watermarked

#: Every display size, smallest box first (ties: in the file's order).
ALL_SIZES: tuple[Size, ...] = tuple(sorted(_OUTPUTS.sizes.values(), key=lambda s: s.width * s.height))
SIZES_BY_NAME: dict[str, Size] = {s.name: s for s in ALL_SIZES}

#: Tool (``source_tool`` of an upload) -> its preset's outputs, smallest first.
PRESETS: dict[str, tuple[Size, ...]] = dict(_OUTPUTS.presets)
SOURCE_TOOLS: tuple[str, ...] = tuple(PRESETS)
#: The names preset outputs have (``normal``, ``hq``): a size of its own kind.
PRESET_OUTPUT_NAMES: frozenset[str] = frozenset(s.name for outputs in PRESETS.values() for s in outputs)
#: Every size name accepted end to end (callbacks, ``/api/images``, ``/serve``), in listing
#: order: the display sizes, then the preset outputs.
SIZE_NAMES: tuple[str, ...] = (*SIZES_BY_NAME, *sorted(PRESET_OUTPUT_NAMES - set(SIZES_BY_NAME)))
SIZE_ORDER: dict[str, int] = {name: rank for rank, name in enumerate(SIZE_NAMES)}


def _value(data_type: object) -> str:
    return str(getattr(data_type, "value", data_type))


def sizes_for(data_type: str, source_tool: str | None = None) -> tuple[Size, ...]:
    """The sizes the media VM makes for an image of ``data_type`` (a ``DataType`` value), in the
    configured order (smallest first), then, for an upload made by ``source_tool``, that tool's
    preset outputs (:func:`presets_for`)."""
    names = _OUTPUTS.data_types.get(_value(data_type), _OUTPUTS.data_types["default"])
    return (*(_OUTPUTS.sizes[name] for name in names), *presets_for(source_tool))


def presets_for(source_tool: str | None) -> tuple[Size, ...]:
    """The preset outputs of ``source_tool`` (empty for None or a tool the configuration does
    not know: the main API refuses those at upload)."""
    return PRESETS.get(source_tool or "", ())


def default_size_for(data_type: str) -> str:
    """The size an image of ``data_type``'s smart URL names: ``detail`` when the data type is
    made in it, else ``display``, else its largest size."""
    names = [s.name for s in sizes_for(data_type)]
    for name in (DEFAULT_SIZE, "display"):
        if name in names:
            return name
    return max(sizes_for(data_type), key=lambda s: s.width * s.height).name


#: Order of preference when negotiating from ``Accept``.
NEGOTIATION_ORDER: tuple[ImageFormat, ...] = (ImageFormat.AVIF, ImageFormat.WEBP, ImageFormat.JPEG)

#: Background variants: ``original`` for every image, ``removed`` for logos.
BACKGROUNDS: tuple[str, ...] = ("original", "removed")


def nearest_size(wanted: str, available: set[str] | list[str]) -> str | None:
    """What to serve for a request of size ``wanted`` from the sizes an image has (``available``).

    A preset output (``normal``, ``hq``) is served only when the image has it: None otherwise
    (404), never another preset's box or a display size. A display size falls back to the
    available display size closest in area (ties go to the larger one); preset outputs are never
    candidates, so an artwork never falls back to a size it was not made in. None when nothing
    fits."""
    if wanted in PRESET_OUTPUT_NAMES and wanted not in SIZES_BY_NAME:
        return wanted if wanted in available else None
    candidates = [n for n in available if n in SIZES_BY_NAME]
    if wanted in candidates:
        return wanted
    if not candidates or wanted not in SIZES_BY_NAME:
        return None
    target = SIZES_BY_NAME[wanted]
    area = target.width * target.height

    def distance(name: str) -> tuple[int, int]:
        s = SIZES_BY_NAME[name]
        return (abs(s.width * s.height - area), -(s.width * s.height))

    return min(candidates, key=distance)
