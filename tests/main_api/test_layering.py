"""The main API's apps depend on each other in one direction:
``frontend -> artworks -> users -> media -> common``; inside ``media`` its rooms do too
(``apis -> services -> selectors -> live -> upload_object``, with ``intake`` beneath them), and
no module of the apps is over :data:`MAX_LINES` lines.

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


#: room of the media app (a package or a module under ``main_api/media``) -> rooms it must never import
MEDIA_ROOMS_FORBIDDEN = {
    "services": ("apis",),
    "selectors": ("apis", "services"),
    "live": ("apis", "services", "selectors"),
    "upload_object.py": ("apis", "services", "selectors", "live"),
    "intake": ("apis", "services", "selectors", "live", "upload_object"),
    "domain_events.py": ("apis", "services", "selectors", "live", "upload_object", "intake"),
}


@pytest.mark.parametrize("room", sorted(MEDIA_ROOMS_FORBIDDEN))
def test_the_media_rooms_import_each_other_in_one_direction(room):
    base = ROOT / "media" / room
    paths = [base] if base.suffix == ".py" else sorted(base.rglob("*.py"))
    assert paths, f"no room {room}"
    bad = []
    for path in paths:
        for module in sorted(imported_modules(path)):
            for other in MEDIA_ROOMS_FORBIDDEN[room]:
                name = f"main_api.media.{other.removesuffix('.py')}"
                if module == name or module.startswith(f"{name}."):
                    bad.append(f"{path.relative_to(ROOT)} imports {module}")
    assert bad == []


#: The most lines a module of the apps may have (the settings module and migrations aside).
MAX_LINES = 400


def test_no_module_of_the_apps_is_over_the_cap():
    long = {
        str(path.relative_to(ROOT)): n
        for path in ROOT.rglob("*.py")
        if "migrations" not in path.parts and path.name != "settings.py"
        and (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these by concept (over {MAX_LINES} lines): {long}"


@pytest.mark.parametrize("concept, path", [
    ("the API the media VM calls", "media/apis/media_vm.py"),
    ("the owner's uploads resource", "media/apis/uploads.py"),
    ("the upload object", "media/upload_object.py"),
    ("the upload gate", "media/intake/gate.py"),
    ("temp storage", "media/intake/temp_storage.py"),
    ("the event stream", "media/live/event_stream.py"),
    ("the upload events", "media/domain_events.py"),
    ("the dashboard", "media/selectors/dashboard.py"),
])
def test_a_reader_finds_a_concept_by_its_name(concept, path):
    assert (ROOT / path).is_file(), concept
