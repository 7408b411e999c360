"""The suite's own layout: ``tests/helpers`` is the ground floor (it imports no test folder above
it), and each shared helper is defined once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
TEST_FOLDERS = sorted(p.name for p in TESTS.iterdir() if p.is_dir() and p.name not in ("helpers", "__pycache__"))


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_helpers_import_no_test_folder():
    bad = [f"{path.relative_to(TESTS)} imports {module}"
           for path in sorted((TESTS / "helpers").rglob("*.py"))
           for module in sorted(imports_of(path))
           if any(module == f"tests.{folder}" or module.startswith(f"tests.{folder}.") for folder in TEST_FOLDERS)]
    assert bad == []


@pytest.mark.parametrize("name", ["free_port", "wait_until", "files_under", "stop", "image_bytes"])
def test_each_shared_helper_is_defined_once(name):
    defined = [str(path.relative_to(TESTS)) for path in sorted(TESTS.rglob("*.py"))
               for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.FunctionDef) and node.name in (name, f"_{name}") and node.col_offset == 0]
    assert len(defined) == 1, defined
