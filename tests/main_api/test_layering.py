"""The main API's apps depend on each other in one direction:
``frontend -> artworks -> users -> media -> common``.

Every module of ``main_api`` is parsed (imports inside functions included): each app imports
nothing of the apps above it (``FORBIDDEN``); ``frontend`` is the top layer (the demo site and
the frontend kit). Where a lower app shows
something of a higher one, the higher one registers it with a hook of the lower (see the
docstring of ``main_api/__init__.py``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import main_api

ROOT = Path(main_api.__file__).resolve().parent
#: app -> the apps of ours it must never import
FORBIDDEN = {
    "common": ("media", "users", "artworks", "frontend"),
    "media": ("users", "artworks", "frontend"),
    "users": ("artworks", "frontend"),
    "artworks": ("frontend",),
}


def imported_modules(path: Path, source: str | None = None) -> set[str]:
    """Every absolute module name the module at ``path`` (a file under ``main_api``, or
    ``source`` said to be there) imports, at any depth, relative imports resolved."""
    package = ".".join(("main_api", *path.relative_to(ROOT).with_suffix("").parts[:-1]))
    found: set[str] = set()
    source = path.read_text() if source is None else source
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            # ``from main_api import media`` imports the package too
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def violations(app: str) -> list[str]:
    bad = []
    for path in sorted((ROOT / app).rglob("*.py")):
        for module in sorted(imported_modules(path)):
            for other in FORBIDDEN[app]:
                if module == f"main_api.{other}" or module.startswith(f"main_api.{other}."):
                    bad.append(f"{path.relative_to(ROOT)} imports {module}")
    return bad


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_apps_import_each_other_in_one_direction(app):
    assert violations(app) == []


def test_the_parser_sees_imports_inside_functions():
    source = "def f():\n    from main_api.media.selectors import x\n    from ..users import models\n"
    found = imported_modules(ROOT / "common" / "probe.py", source)
    assert {"main_api.media.selectors", "main_api.users", "main_api.users.models"} <= found
