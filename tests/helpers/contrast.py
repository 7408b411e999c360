"""WCAG 2.1 contrast of the colours a page's CSS gives its text, in each colour theme.

- :func:`contrast_ratio`: WCAG 2.1's ratio ``(L1 + 0.05) / (L2 + 0.05)`` of two ``#rgb``/``#rrggbb``
  colours, with relative luminance as the standard's definitions give it (sRGB channel
  ``c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4``; ``0.2126 R + 0.7152 G + 0.0722 B``).
- :func:`rules`: the rules of a style sheet, each with the ``@media`` condition around it.
- :func:`theme_variables`: the custom properties (``--x``) of Django admin's light theme
  (``:root`` / ``html[data-theme="light"]``) and dark theme (``html[data-theme="dark"]`` and the
  ``prefers-color-scheme: dark`` media query), the page's own overrides included.
- :func:`resolve`: a ``var(--x, fallback)`` (nested too) or a literal colour, to ``#rrggbb``.

A small reader for the admin's and our own sheets (plain rules, ``@media`` blocks, comments),
not a CSS engine: it stops the test with what it could not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LIGHT_SELECTORS = (":root", 'html[data-theme="light"]')
DARK_SELECTORS = ('html[data-theme="dark"]',)


@dataclass(frozen=True)
class Rule:
    """One rule: its selectors, its declarations, and the ``@media`` condition it sits in ("" if none)."""

    selectors: tuple[str, ...]
    declarations: dict[str, str]
    media: str = ""


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of ``#rrggbb``."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.1's contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def rules(css: str) -> list[Rule]:
    """The rules of ``css``, those inside ``@media (...) { ... }`` marked with its condition."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found: list[Rule] = []
    position = 0
    while True:
        match = re.compile(r"([^{}]*)\{").search(css, position)
        if not match:
            return found
        head = match.group(1).strip()
        if head.startswith("@media"):
            depth, end = 1, match.end()
            while depth:
                depth += {"{": 1, "}": -1}.get(css[end], 0)
                end += 1
            found += [Rule(r.selectors, r.declarations, head[len("@media"):].strip())
                      for r in rules(css[match.end():end - 1])]
            position = end
            continue
        close = css.index("}", match.end())
        declarations = {}
        for part in css[match.end():close].split(";"):
            name, colon, value = part.partition(":")
            if colon:
                declarations[name.strip().lower()] = value.strip()
        found.append(Rule(tuple(s.strip() for s in head.split(",")), declarations))
        position = close + 1


def _variables(sheet_rules: list[Rule], *, dark: bool) -> dict[str, str]:
    values: dict[str, str] = {}
    for rule in sheet_rules:
        in_dark_query = "prefers-color-scheme: dark" in rule.media
        if rule.media and not in_dark_query:
            continue
        light = any(s in LIGHT_SELECTORS for s in rule.selectors) and not in_dark_query
        dark_rule = any(s in DARK_SELECTORS for s in rule.selectors) or (in_dark_query and ":root" in rule.selectors)
        applies = light or (dark and dark_rule)
        if applies:
            values.update({k: v for k, v in rule.declarations.items() if k.startswith("--")})
    return values


def theme_variables(sheet_rules: list[Rule]) -> dict[str, dict[str, str]]:
    """``{"light": {...}, "dark": {...}}``: the custom properties each theme ends with, the sheets'
    rules taken in the order given (a later sheet's override wins, as in the page)."""
    return {"light": _variables(sheet_rules, dark=False), "dark": _variables(sheet_rules, dark=True)}


def _hex(colour: str) -> str:
    colour = colour.strip().lower()
    if re.fullmatch(r"#[0-9a-f]{3}", colour):
        return "#" + "".join(ch * 2 for ch in colour[1:])
    if re.fullmatch(r"#[0-9a-f]{6}", colour):
        return colour
    raise ValueError(f"not a colour this reader knows: {colour!r}")


def resolve(value: str, variables: dict[str, str]) -> str:
    """``value`` (a colour or a ``var()``, first word of a shorthand) as ``#rrggbb`` with ``variables``."""
    value = value.strip()
    match = re.fullmatch(r"var\(\s*(--[\w-]+)\s*(?:,\s*(.+))?\)", value)
    if match:
        name, fallback = match.groups()
        if name in variables:
            return resolve(variables[name], variables)
        if fallback is None:
            raise ValueError(f"{name} is not set and has no fallback")
        return resolve(fallback, variables)
    return _hex(value.split()[0])
