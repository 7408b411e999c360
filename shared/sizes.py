"""Variant sizes, their boxes and how each is fitted, presets, and output formats.

The sizes and presets come from the outputs configuration a service started with
(``shared.outputs.start``: the built-in ``shared/outputs.toml``, or the file ``MEDIA_OUTPUTS_FILE``
names); the tables below are derived from it on their first use, not when this module is
imported. Two kinds of sizes: display sizes (every image is made in its data type's) and preset
outputs (``normal``, ``hq``: made only for an upload that names the tool, ``source_tool``).
Fallback never crosses kinds.
"""

from __future__ import annotations

from typing import Any

from shared.outputs import DEFAULT_KEY, Fit, ImageFormat, Outputs, OutputsConfigError, Size, current

__all__ = [
    "ALL_SIZES", "ARTWORK_SIZES", "BACKGROUNDS", "DEFAULT_SIZE", "NEGOTIATION_ORDER", "PRESET_OUTPUT_NAMES",
    "PRESETS", "SIZES", "SIZES_BY_NAME", "SIZE_NAMES", "SIZE_ORDER", "SOURCE_TOOLS", "WATERMARKED_SIZES", "Fit",
    "ImageFormat", "OutputsConfigError", "Size", "default_size_for", "nearest_size", "presets_for", "sizes_for",
]

#: The display sizes of an image of a data type the configuration does not name (by default
#: the contract's six), in the configured order (smallest first).
SIZES: tuple[Size, ...]
#: The sizes of an artwork's image (by default ``icon``, ``thumbnail``, ``display``).
ARTWORK_SIZES: tuple[Size, ...]
DEFAULT_SIZE = "detail"
#: Sizes that carry the owner's watermark (``watermark`` of the pending list) in every format;
#: an image with a watermark has it on its preset outputs (``normal``, ``hq``) too. By default an
#: artwork has no unwatermarked size larger than ``grid``, so no size name and no fallback can
#: lead a public request to one.
WATERMARKED_SIZES: frozenset[str]
#: Every display size, smallest box first (ties: in the file's order).
ALL_SIZES: tuple[Size, ...]
SIZES_BY_NAME: dict[str, Size]
#: Tool (``source_tool`` of an upload) -> its preset's outputs, smallest first.
PRESETS: dict[str, tuple[Size, ...]]
SOURCE_TOOLS: tuple[str, ...]
#: The names preset outputs have (``normal``, ``hq``): a size of its own kind.
PRESET_OUTPUT_NAMES: frozenset[str]
#: Every size name accepted end to end (callbacks, ``/api/images``, ``/serve``), in listing
#: order: the display sizes, then the preset outputs.
SIZE_NAMES: tuple[str, ...]
SIZE_ORDER: dict[str, int]


_derived: tuple[Outputs, dict[str, Any]] | None = None


def _tables() -> dict[str, Any]:
    """The tables above (name -> value) for the configuration the process started with
    (``shared.outputs.current``), derived on their first use, not at import. Raises
    :class:`OutputsConfigError`."""
    global _derived
    outputs = current()
    if _derived is None or _derived[0] is not outputs:
        all_sizes = tuple(sorted(outputs.sizes.values(), key=lambda s: s.width * s.height))
        by_name = {s.name: s for s in all_sizes}
        presets = dict(outputs.presets)
        preset_names = frozenset(s.name for made in presets.values() for s in made)
        names = (*by_name, *sorted(preset_names - set(by_name)))
        default = outputs.data_types[DEFAULT_KEY]
        _derived = (outputs, {
            "SIZES": tuple(outputs.sizes[name] for name in default),
            "ARTWORK_SIZES": tuple(outputs.sizes[name] for name in outputs.data_types.get("artwork", default)),
            "WATERMARKED_SIZES": outputs.watermarked, "ALL_SIZES": all_sizes, "SIZES_BY_NAME": by_name,
            "PRESETS": presets, "SOURCE_TOOLS": tuple(presets), "PRESET_OUTPUT_NAMES": preset_names,
            "SIZE_NAMES": names, "SIZE_ORDER": {name: rank for rank, name in enumerate(names)},
        })
    return _derived[1]


def __getattr__(name: str) -> Any:
    """``shared.sizes.SIZES`` and the other tables above: from :func:`_tables`."""
    tables = _tables() if name.isupper() else {}
    if name in tables:
        return tables[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _value(data_type: object) -> str:
    return str(getattr(data_type, "value", data_type))


def sizes_for(data_type: str, source_tool: str | None = None) -> tuple[Size, ...]:
    """The sizes the media VM makes for an image of ``data_type`` (a ``DataType`` value), in the
    configured order (smallest first), then, for an upload made by ``source_tool``, that tool's
    preset outputs (:func:`presets_for`)."""
    outputs = current()
    names = outputs.data_types.get(_value(data_type), outputs.data_types[DEFAULT_KEY])
    return (*(outputs.sizes[name] for name in names), *presets_for(source_tool))


def presets_for(source_tool: str | None) -> tuple[Size, ...]:
    """The preset outputs of ``source_tool`` (empty for None or a tool the configuration does
    not know: the main API refuses those at upload)."""
    presets: dict[str, tuple[Size, ...]] = _tables()["PRESETS"]
    return presets.get(source_tool or "", ())


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
    tables = _tables()
    by_name: dict[str, Size] = tables["SIZES_BY_NAME"]
    if wanted in tables["PRESET_OUTPUT_NAMES"] and wanted not in by_name:
        return wanted if wanted in available else None
    candidates = [n for n in available if n in by_name]
    if wanted in candidates:
        return wanted
    if not candidates or wanted not in by_name:
        return None
    target = by_name[wanted]
    area = target.width * target.height

    def distance(name: str) -> tuple[int, int]:
        s = by_name[name]
        return (abs(s.width * s.height - area), -(s.width * s.height))

    return min(candidates, key=distance)
