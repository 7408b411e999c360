"""Sizes and presets as configuration: one TOML file both services read.

The built-in default is ``shared/outputs.toml`` (the contract's six sizes, an artwork's three,
the presets of DALL-E, Sora and Stable Diffusion). An operator edits a copy
(``deploy/outputs.example.toml``) and names it in ``MEDIA_OUTPUTS_FILE`` on every main API and
media VM host; each service loads and validates it when it starts (:func:`start`;
``OutputsConfigError`` names the file, the line and what is wrong), and :func:`current` returns it.

The file's shape (see ``shared/outputs.toml`` for a complete one)::

    watermarked = ["display"]                 # sizes drawn with an artwork's watermark
    [data_types]                              # sizes per data type; "default" for the others
    default = ["thumbnail", "grid", ...]      # smallest first; every list holds "thumbnail" (made first)
    [sizes.<name>]                            # a display size: box, fit, [formats], [per format]
    box = [1200, 1200]
    fit = "inside"                            # or "crop"
    [presets.<tool>.<output>]                 # an output of a tool's preset (source_tool)
    box = [1024, 1024]
    fit = "inside"
    formats = ["jpeg"]
    jpeg = { quality = 80 }

Per-format settings: ``avif`` quality 1-100 and effort 0-9 (libvips ``heifsave`` ``Q``,
``effort``), ``webp`` quality 1-100 and effort 0-6 (``webpsave``), ``jpeg`` quality 1-100
(``jpegsave``), ``png`` compression 0-9 (``pngsave``); unset ones are the media VM's defaults
(``media_vm/imaging/defaults.py``).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from shared.config import Setting

#: The environment variable both services read the file's path from.
ENV_VAR = "MEDIA_OUTPUTS_FILE"
BUILTIN_FILE = Path(__file__).with_name("outputs.toml")
#: Its declaration, in both services' settings (``main_api.declarations``, ``media_vm.declarations``).
SETTING = Setting(
    ENV_VAR, str, "",
    "The outputs file (sizes, watermarked sizes, presets; see deploy/outputs.example.toml): the same file on "
    "every main API and media VM host, loaded when the service starts. Empty: the built-in default "
    "(shared/outputs.toml).",
    example="/etc/oaf/outputs.toml", default_text="the built-in shared/outputs.toml",
)
DEFAULT_KEY = "default"
#: Data types a ``[data_types]`` key may name (``shared.data_types.DataType`` values) besides
#: ``default``; kept here as strings so that this module imports nothing of ours.
DATA_TYPES = ("product", "profile", "event", "logo", "sites", "artwork")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_SIDE = 10_000


class Fit(str, Enum):
    INSIDE = "inside"  # scale down to fit the box, keep the aspect ratio
    CROP = "crop"  # fill the box exactly, cropping around the subject


class ImageFormat(str, Enum):
    AVIF = "avif"
    WEBP = "webp"
    JPEG = "jpeg"
    PNG = "png"

    @property
    def mime_type(self) -> str:
        return f"image/{self.value}"

    @property
    def extension(self) -> str:
        return "jpg" if self is ImageFormat.JPEG else self.value


#: format -> {setting: (lowest, highest)} a named output may set for it.
FORMAT_SETTINGS: dict[str, dict[str, tuple[int, int]]] = {
    "avif": {"quality": (1, 100), "effort": (0, 9)},
    "webp": {"quality": (1, 100), "effort": (0, 6)},
    "jpeg": {"quality": (1, 100)},
    "png": {"compression": (0, 9)},
}


@dataclass(frozen=True)
class Size:
    """A named output: ``width`` x ``height`` px box, ``fit``; ``formats`` (empty: the data
    type's, AVIF, WebP, JPEG and PNG where needed); ``encoding``: ``(format, setting, value)``
    triples (see :data:`FORMAT_SETTINGS`); ``preset``: the tool whose preset output it is (None:
    a display size)."""

    name: str
    width: int
    height: int
    fit: Fit
    formats: tuple[ImageFormat, ...] = ()
    encoding: tuple[tuple[str, str, int], ...] = field(default=(), compare=False)
    preset: str | None = None

    def setting(self, fmt: ImageFormat | str, name: str) -> int | None:
        """The configured ``name`` (``quality``, ``effort``, ``compression``) for ``fmt``, or None."""
        fmt = ImageFormat(fmt).value
        return next((value for f, n, value in self.encoding if f == fmt and n == name), None)


@dataclass(frozen=True)
class Outputs:
    """A loaded configuration: ``sizes`` (display sizes by name), ``data_types`` (data type or
    ``default`` -> size names, smallest first), ``watermarked`` size names, ``presets`` (tool ->
    its outputs), ``source`` (the file it came from)."""

    sizes: dict[str, Size]
    data_types: dict[str, tuple[str, ...]]
    watermarked: frozenset[str]
    presets: dict[str, tuple[Size, ...]]
    source: str


class OutputsConfigError(ValueError):
    """The outputs file is missing, not TOML, or says something we cannot make; the message
    names the file and, where it can be found, the line."""


_started: Outputs | None = None


def start(path: str | Path | None = None) -> Outputs:
    """Load and validate the configuration a service starts with: ``path``, else the file
    ``MEDIA_OUTPUTS_FILE`` names, else the built-in one. Each service calls it once when it starts
    (the main API's settings, ``python -m media_vm``); :func:`current` returns it from then on.
    Raises :class:`OutputsConfigError`."""
    global _started
    _started = _load_cached(str(path) if path else os.environ.get(ENV_VAR, "").strip() or str(BUILTIN_FILE))
    return _started


def current() -> Outputs:
    """The configuration of this process: the one it started with (:func:`start`); a process
    that did not call it (a script, a test importing ``shared.sizes``) starts it on first use.
    Raises :class:`OutputsConfigError`."""
    return _started if _started is not None else start()


@cache
def _load_cached(path: str) -> Outputs:
    return load_outputs(path)


def load_outputs(path: str | Path) -> Outputs:
    """Read and validate the outputs file at ``path``. Raises :class:`OutputsConfigError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise OutputsConfigError(f"{path}: cannot read the outputs file ({e.strerror or e})") from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:  # its message ends "(at line N, column M)"
        raise OutputsConfigError(f"{path}: not valid TOML: {e}") from e
    return _Reader(path, text).outputs(data)


class _Reader:
    """Validates a parsed file, naming the line of each problem (found in the text by its table
    and key, since ``tomllib`` keeps no positions)."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def fail(self, where: tuple[str, ...], problem: str) -> OutputsConfigError:
        line = self.line_of(where)
        at = f", line {line}" if line else ""
        return OutputsConfigError(f"{self.path}{at}: {'.'.join(where)}: {problem}")

    def line_of(self, where: tuple[str, ...]) -> int | None:
        """The 1-based line that sets ``where`` (a key path): its own table header, or the key
        under the longest table header that is a prefix of it, or else the first header below
        it (``[presets.<tool>.<output>]`` for ``presets.<tool>``); None when nothing matches."""
        headers: list[tuple[int, tuple[str, ...]]] = []
        keys: dict[tuple[tuple[str, ...], str], int] = {}
        table: tuple[str, ...] = ()
        for number, raw in enumerate(self.lines, start=1):
            stripped = raw.split("#", 1)[0].strip()
            header = re.match(r"^\[\s*([^\[\]]+?)\s*\]$", stripped)
            if header:
                table = tuple(part.strip().strip('"').strip("'") for part in header.group(1).split("."))
                headers.append((number, table))
                continue
            key = re.match(r"^[\"']?([A-Za-z0-9_-]+)[\"']?\s*=", stripped)
            if key:
                keys.setdefault((table, key.group(1)), number)
        for number, path in headers:
            if path == where:
                return number
        for cut in range(len(where) - 1, -1, -1):
            if (where[:cut], where[cut]) in keys:
                return keys[(where[:cut], where[cut])]
        return next((number for number, path in headers if path[:len(where)] == where), None)

    def outputs(self, data: dict[str, Any]) -> Outputs:
        for key in data:
            if key not in ("watermarked", "data_types", "sizes", "presets"):
                raise self.fail((key,), "unknown key (watermarked, data_types, sizes, presets)")
        sizes_table = data.get("sizes")
        if not isinstance(sizes_table, dict) or not sizes_table:
            raise self.fail(("sizes",), "at least one [sizes.<name>] table is needed")
        sizes = {name: self.size(("sizes", name), spec, preset=None) for name, spec in sizes_table.items()}

        types_table = data.get("data_types")
        if not isinstance(types_table, dict) or DEFAULT_KEY not in types_table:
            raise self.fail(("data_types",), "a [data_types] table with a 'default' list is needed")
        data_types: dict[str, tuple[str, ...]] = {}
        for key, names in types_table.items():
            where = ("data_types", key)
            if key != DEFAULT_KEY and key not in DATA_TYPES:
                raise self.fail(where, f"not a data type ({', '.join((DEFAULT_KEY, *DATA_TYPES))})")
            listed = self.names(where, names, sizes)
            if "thumbnail" not in listed:
                raise self.fail(where, "must include 'thumbnail' (made first, served while the rest is made)")
            data_types[key] = tuple(listed)

        watermarked = frozenset(self.names(("watermarked",), data.get("watermarked", []), sizes, empty=True))

        presets: dict[str, tuple[Size, ...]] = {}
        presets_table = data.get("presets", {})
        if not isinstance(presets_table, dict):
            raise self.fail(("presets",), "must be tables [presets.<tool>.<output>]")
        for tool, outputs in presets_table.items():
            if not _NAME.match(tool):
                raise self.fail(("presets", tool), "a tool name is lower-case letters, digits, '-' or '_'")
            if not isinstance(outputs, dict) or not outputs:
                raise self.fail(("presets", tool), "needs at least one [presets.<tool>.<output>] table")
            made = []
            for name, spec in outputs.items():
                if name in sizes:
                    raise self.fail(("presets", tool, name), "a preset output cannot have a display size's name")
                made.append(self.size(("presets", tool, name), spec, preset=tool))
            presets[tool] = tuple(sorted(made, key=lambda s: s.width * s.height))
        return Outputs(sizes, data_types, watermarked, presets, str(self.path))

    def names(self, where: tuple[str, ...], value: Any, sizes: dict[str, Size], *, empty: bool = False) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or (not value and not empty):
            raise self.fail(where, "must be a list of size names")
        unknown = [v for v in value if v not in sizes]
        if unknown:
            raise self.fail(where, f"unknown size {unknown[0]!r} (known: {', '.join(sizes)})")
        if len(set(value)) != len(value):
            raise self.fail(where, "names a size twice")
        return list(value)

    def size(self, where: tuple[str, ...], spec: Any, *, preset: str | None) -> Size:
        name = where[-1]
        if not _NAME.match(name):
            raise self.fail(where, "a name is lower-case letters, digits, '-' or '_' (at most 32)")
        if not isinstance(spec, dict):
            raise self.fail(where, "must be a table with box and fit")
        for key in spec:
            if key not in ("box", "fit", "formats", *FORMAT_SETTINGS):
                raise self.fail((*where, key), f"unknown key (box, fit, formats, {', '.join(FORMAT_SETTINGS)})")
        box = spec.get("box")
        if (not isinstance(box, list) or len(box) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_SIDE for v in box)):
            raise self.fail((*where, "box"), f"must be [width, height], whole pixels 1-{MAX_SIDE}")
        try:
            fit = Fit(spec.get("fit"))
        except ValueError:
            raise self.fail((*where, "fit"), "must be \"inside\" or \"crop\"") from None
        formats: tuple[ImageFormat, ...] = ()
        if "formats" in spec:
            raw = spec["formats"]
            if not isinstance(raw, list) or not raw or not all(v in FORMAT_SETTINGS for v in raw):
                raise self.fail((*where, "formats"), f"must be a non-empty list of {', '.join(FORMAT_SETTINGS)}")
            formats = tuple(ImageFormat(v) for v in dict.fromkeys(raw))
        encoding: list[tuple[str, str, int]] = []
        for fmt, allowed in FORMAT_SETTINGS.items():
            if fmt not in spec:
                continue
            settings = spec[fmt]
            if not isinstance(settings, dict):
                raise self.fail((*where, fmt), f"must be a table, e.g. {fmt} = {{ {next(iter(allowed))} = ... }}")
            if formats and ImageFormat(fmt) not in formats:
                raise self.fail((*where, fmt), f"settings for {fmt}, which is not in formats")
            for setting, value in settings.items():
                if setting not in allowed:
                    raise self.fail((*where, fmt), f"unknown setting {setting!r} ({', '.join(allowed)})")
                low, high = allowed[setting]
                if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                    raise self.fail((*where, fmt), f"{setting} must be a whole number {low}-{high}")
                encoding.append((fmt, setting, value))
        return Size(name, box[0], box[1], fit, formats, tuple(encoding), preset)
