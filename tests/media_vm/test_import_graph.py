"""The media VM's modules import each other without a cycle, imports inside functions included.

Every module under ``media_vm`` is parsed with ``ast``; an edge goes from a module to each
module of ``media_vm`` it imports, at any depth (a function-level import hides a cycle from
Python's import machinery, not from this test). The strongly connected components of that
graph must all be single modules. The worker package (``media_vm.worker``) sits on top: only
the CLI imports it, so the modules below may use its pieces (the steps use ``reporting``).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import media_vm

ROOT = Path(media_vm.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(sources: dict[str, tuple[Path, str]]) -> dict[str, set[str]]:
    """``{module: {media_vm modules it imports}}`` for ``{module: (path, source)}``."""
    graph: dict[str, set[str]] = {name: set() for name in sources}
    for name, (path, source) in sources.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(source, filename=str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                # ``from media_vm import failpoints`` imports the submodule, not just the package
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in sources else base for a in node.names]
            for target in targets:
                while target and target not in sources:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, 1972)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def media_vm_sources() -> dict[str, tuple[Path, str]]:
    return {module_name(p): (p, p.read_text()) for p in sorted(ROOT.rglob("*.py"))}


def test_the_media_vm_has_no_import_cycle():
    assert cycles(import_graph(media_vm_sources())) == []


def test_a_cycle_through_a_function_level_import_is_found():
    probe = ROOT / "probe.py"
    sources = {
        "media_vm.worker": (ROOT / "worker.py", "from media_vm.healer import heal\n"),
        "media_vm.healer": (ROOT / "healer.py", "def heal(w):\n    from media_vm.worker import Worker\n"),
        "media_vm.probe": (probe, "from . import worker\n"),
    }
    assert cycles(import_graph(sources)) == [["media_vm.healer", "media_vm.worker"]]


def importers(graph: dict[str, set[str]], target: str) -> set[str]:
    return {name for name, imported in graph.items() if target in imported}


def test_only_the_cli_imports_the_worker_and_only_the_package_imports_its_loop():
    graph = import_graph(media_vm_sources())
    assert importers(graph, "media_vm.worker") == {"media_vm.__main__"}
    assert importers(graph, "media_vm.worker.loop") == {"media_vm.worker"}


def test_the_seed_redis_worker_loads_neither_the_media_db_nor_the_worker_loop():
    """It shares the worker's ``Retry`` and warm shutdown, nothing more (its jobs involve no
    media DB); the worker package loads its loop only when ``Worker`` is asked for."""
    probe = ("import sys, media_vm.seed_redis_worker; "
             "print(sorted(m for m in ('sqlalchemy', 'media_vm.db', 'media_vm.worker.loop') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT.parent, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
