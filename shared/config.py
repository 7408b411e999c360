"""Settings declared once: name, type, default, help and group of each environment variable.

Each service lists its settings in one :class:`Declarations` (``main_api.config.MAIN_API``,
``media_vm.config.MEDIA_VM``), as thumbor's ``Config.define`` and imgproxy's per-package
``Config`` do. From it the service reads its values (:meth:`Declarations.read`: every parse error
is a :class:`SettingError` that names the variable and the value), reports where each came from
(:meth:`Declarations.report`, for ``python -m main_api settings`` and ``python -m media_vm
settings``), and ``make settings-docs`` writes the env examples and the reference page
(:func:`env_example`, :func:`reference_page`; ``deploy/settings_docs.py``).

Imports nothing of ours (like the rest of ``shared``): no Django, no pyvips.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: The types a setting may have; ``list`` is a comma-separated list of strings.
KINDS = (str, int, float, bool, list)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
#: What a secret's value is shown as (``settings`` commands); an unset secret shows as empty.
MASK = "********"
_WIDTH = 100  # env example comment lines


class SettingError(ValueError):
    """A setting's value cannot be used. ``name`` is the variable, ``value`` what it was set to;
    the message names both: ``MAX_UPLOAD_BYTES must be an integer, got '5MB'``."""

    def __init__(self, name: str, value: str, problem: str) -> None:
        super().__init__(f"{name} {problem}, got {value!r}")
        self.name = name
        self.value = value


def between(low: float, high: float) -> Callable[[Any], str | None]:
    """A :attr:`Setting.check`: the value must lie in ``low..high`` (both included)."""

    def check(value: Any) -> str | None:
        return None if low <= value <= high else f"must be between {low:g} and {high:g}"

    return check


@dataclass(frozen=True)
class Setting:
    """One environment variable of a service.

    ``kind``: one of :data:`KINDS`; ``default``: the value when the variable is unset or empty
    (``default_text`` says it in words when the service computes it at start, e.g. from another
    setting); ``help``: what it does, for the env example, the reference page and ``settings``;
    ``example``: the value the env example shows instead of the default (``set_in_example``: on
    an active line, a value the operator must give); ``secret``: masked wherever it is shown;
    ``choices``: the values allowed (compared lower-cased); ``check``: returns the problem of a
    parsed value (``"must be ..."``) or None; ``attr``: the attribute of the service's settings
    object that holds it as read (the media VM's ``Settings``), if any; ``blank``: a variable set
    to the empty string means empty (``TESSERACT_CMD=`` turns OCR off), not the default.
    """

    name: str
    kind: type
    default: Any
    help: str
    example: str | None = None
    set_in_example: bool = False
    secret: bool = False
    choices: tuple[str, ...] = ()
    check: Callable[[Any], str | None] | None = field(default=None, compare=False)
    attr: str | None = None
    default_text: str | None = None
    blank: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise TypeError(f"{self.name}: kind must be one of {', '.join(k.__name__ for k in KINDS)}")

    def parse(self, raw: str) -> Any:
        """The value of ``raw`` (already stripped, not empty). Raises :class:`SettingError`."""
        value: Any
        if self.kind is int:
            try:
                value = int(raw)
            except ValueError:
                raise SettingError(self.name, raw, "must be an integer") from None
        elif self.kind is float:
            try:
                value = float(raw)
            except ValueError:
                raise SettingError(self.name, raw, "must be a number") from None
        elif self.kind is bool:
            if raw.lower() not in _TRUE + _FALSE:
                raise SettingError(self.name, raw, "must be 1 or 0 (true/false, yes/no, on/off)")
            value = raw.lower() in _TRUE
        elif self.kind is list:
            value = [item.strip() for item in raw.split(",") if item.strip()]
        else:
            value = raw
        if self.choices:
            value = value.lower()
            if value not in self.choices:
                raise SettingError(self.name, raw, f"must be one of {', '.join(self.choices)}")
        problem = self.check(value) if self.check else None
        if problem:
            raise SettingError(self.name, raw, problem)
        return value

    def read(self, env: Mapping[str, str]) -> tuple[Any, str]:
        """``(value, source)`` from ``env``: source is ``"environment"`` or ``"default"``."""
        raw = env.get(self.name, "").strip()
        if not raw and self.blank and self.name in env:
            return ([] if self.kind is list else ""), "environment"
        if not raw:
            return (list(self.default) if isinstance(self.default, list) else self.default), "default"
        return self.parse(raw), "environment"

    def shown(self, value: Any) -> str:
        """``value`` as the env example, the reference page and ``settings`` write it, secrets
        masked and the password of a URL hidden."""
        if value is None:
            return ""
        if self.secret:
            return MASK if value not in ("", [], None) else ""
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, list):
            return ",".join(str(v) for v in value)
        return _password_hidden(str(value))


def _password_hidden(text: str) -> str:
    """``mysql://user:pw@host/db`` -> ``mysql://user:********@host/db``; anything else as is."""
    if "://" not in text or "@" not in text:
        return text
    parts = urlsplit(text)
    if not parts.password:
        return text
    netloc = f"{parts.username or ''}:{MASK}@{parts.netloc.rsplit('@', 1)[1]}"
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True)
class Group:
    """Settings that belong together (``worker``, ``server``, ``storage``, ...): ``name`` is the
    short key, ``title`` the heading of its part of the env example and the reference page."""

    name: str
    title: str
    settings: tuple[Setting, ...]


@dataclass(frozen=True)
class Effective:
    """A setting's value as a service would use it: ``shown`` (masked where secret) and
    ``source`` (``environment`` or ``default``)."""

    setting: Setting
    group: Group
    value: Any
    shown: str
    source: str


@dataclass(frozen=True)
class Declarations:
    """Every setting of one service, in groups. ``service``: the name the pages use; ``intro``:
    the lines that open its env example (without ``#``); ``example_path``: where the env example
    is written, relative to the project root."""

    service: str
    intro: str
    example_path: str
    groups: tuple[Group, ...]

    def __post_init__(self) -> None:
        names = [s.name for s in self]
        twice = {n for n in names if names.count(n) > 1}
        if twice:
            raise ValueError(f"{self.service}: declared twice: {', '.join(sorted(twice))}")

    def __iter__(self) -> Iterator[Setting]:
        return (setting for group in self.groups for setting in group.settings)

    def __getitem__(self, name: str) -> Setting:
        for setting in self:
            if setting.name == name:
                return setting
        raise KeyError(name)

    def group_of(self, name: str) -> Group:
        """The group ``name`` is declared in. Raises ``KeyError``."""
        for group in self.groups:
            if any(s.name == name for s in group.settings):
                return group
        raise KeyError(name)

    def value(self, name: str, env: Mapping[str, str]) -> Any:
        """The value of setting ``name`` in ``env``. Raises :class:`SettingError`, ``KeyError``."""
        return self[name].read(env)[0]

    def read(self, env: Mapping[str, str]) -> dict[str, Any]:
        """``{name: value}`` of every setting, from ``env``. Raises :class:`SettingError` (the
        first bad value)."""
        return {setting.name: setting.read(env)[0] for setting in self}

    def report(self, env: Mapping[str, str]) -> list[Effective]:
        """Each setting's value from ``env`` and where it came from, in declaration order.
        A bad value is reported as ``invalid: <the error>`` rather than raised."""
        found = []
        for group in self.groups:
            for setting in group.settings:
                try:
                    value, source = setting.read(env)
                    shown = setting.shown(value)
                except SettingError as e:
                    value, source, shown = None, "environment", f"invalid: {e}"
                found.append(Effective(setting, group, value, shown, source))
        return found


def report_lines(declarations: Declarations, env: Mapping[str, str]) -> list[str]:
    """The lines ``python -m <service> settings`` prints: per group a heading, then one line per
    setting ``NAME=value  (environment)`` or ``(default)``, secrets masked; a default the service
    computes at start says how (``(default: host name-pid)``)."""
    lines: list[str] = []
    width = max(len(s.name) for s in declarations) + 1
    current = None
    for item in declarations.report(env):
        if item.group is not current:
            current = item.group
            lines += [""] if lines else []
            lines.append(f"# {item.group.title}")
        source = item.source
        if source == "default" and not item.shown and item.setting.default_text:
            source += f": {item.setting.default_text}"
        lines.append(f"{item.setting.name + '=':<{width}}{item.shown:<32} ({source})")
    return lines


def _example_value(setting: Setting) -> str:
    if setting.example is not None:
        return setting.example
    return setting.shown(setting.default) if not setting.secret else ""


def env_example(declarations: Declarations) -> str:
    """The env example of a service (``deploy/env/<service>.env.example``): its intro, then per
    group a ``# --- title ---`` heading and per setting its help as comments above
    ``#NAME=default`` (or ``NAME=example`` when the operator must set it)."""
    out = [f"# {line}" if line else "#" for line in declarations.intro.splitlines()]
    for group in declarations.groups:
        out += ["", f"# --- {group.title} ".ljust(92, "-")]
        for setting in group.settings:
            out += textwrap.wrap(setting.help, _WIDTH, initial_indent="# ", subsequent_indent="# ",
                                 break_on_hyphens=False, break_long_words=False)
            out.append(f"{'' if setting.set_in_example else '#'}{setting.name}={_example_value(setting)}")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def reference_page(*services: Declarations) -> str:
    """``docs/reference/configuration.md``: per service and group a table of its settings
    (name, type, default, what it does)."""
    out = [
        "# Configuration reference",
        "",
        "<!-- Written by `make settings-docs` from the declarations (main_api/declarations.py,",
        "media_vm/declarations.py); edit those, not this page. A test fails when it is out of date. -->",
        "",
        "Each service reads its settings once, at start, from the environment; an unset or empty",
        "variable takes the default. `python -m main_api settings` and `python -m media_vm settings`",
        "print each setting's effective value and where it came from, secrets masked. The env",
        "examples (" + ", ".join(f"`{s.example_path}`" for s in services) + ") say the same per line.",
    ]
    for service in services:
        out += ["", f"## {service.service}"]
        for group in service.groups:
            out += ["", f"### {service.service}: {group.title}", "",
                    "| Setting | Type | Default | What it does |", "|---|---|---|---|"]
            for s in group.settings:
                default = s.default_text or s.shown(s.default)
                default = f"`{default}`" if default and not s.default_text else (default or "empty")
                kind = f"{s.kind.__name__}: {' / '.join(s.choices)}" if s.choices else s.kind.__name__
                secret = " Secret: masked by `settings`." if s.secret else ""
                out.append(f"| `{s.name}` | {kind} | {_cell(default)} | {_cell(s.help)}{secret} |")
    return "\n".join(out) + "\n"
