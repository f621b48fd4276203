"""How the package is put together: the core never imports Flask, the web layer has no import cycle.

Both are read from the source (every ``import``, at module level or inside a function), and
checked for real in fresh interpreters: a cycle hidden behind a function-level import breaks
the day someone moves that import to the top.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import stationmap

PACKAGE = Path(stationmap.__file__).parent
WEB = PACKAGE / "web"
WEB_FRAMEWORKS = ("flask", "flask_compress", "flask_smorest", "werkzeug", "webargs", "gunicorn")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    where = PACKAGE.parent.joinpath(*name.split("."))
    return where.with_suffix(".py").is_file() or (where / "__init__.py").is_file()


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; ``from . import x`` counts as ``package.x``)."""
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:     # ``from package import module`` names the module, else the package
                found.add(f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base)
    return found


def _core_files() -> list[Path]:
    """The core: everything but the web layer and the command line (``stationmap serve`` starts the web app)."""
    entry_points = {PACKAGE / "cli.py", PACKAGE / "__main__.py"}
    return sorted(p for p in PACKAGE.rglob("*.py") if WEB not in p.parents and p not in entry_points)


def _web_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in WEB.glob("*.py")}
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (as the list of modules around it), or ``None``."""
    state: dict[str, int] = {}          # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle_and_accepts_a_tree():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_core_never_imports_a_web_framework():
    offenders = {f"{path.relative_to(PACKAGE.parent)}: {name}" for path in _core_files() for name in _imports(path)
                 if name.split(".")[0] in WEB_FRAMEWORKS or name.startswith("stationmap.web")}
    assert not offenders, sorted(offenders)


def test_importing_every_core_module_loads_no_flask():
    names = [_module_name(p) for p in _core_files()] + ["stationmap.cli"]   # the CLI imports the web only to serve
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n    importlib.import_module(name)\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {WEB_FRAMEWORKS!r}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_web_layer_has_no_import_cycle():
    graph = _web_graph()
    assert "stationmap.web._common" in graph
    assert _cycle(graph) is None, " → ".join(_cycle(graph) or [])


def test_web_modules_import_no_other_view_module_privates():
    """Shared pieces come from ``_common`` (or problems, schemas, config), not from a view module's privates."""
    offenders = []
    for path in WEB.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module not in (None, "_common"):
                offenders += [f"{path.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert not offenders, offenders


@pytest.mark.parametrize("name", sorted(_module_name(p) for p in WEB.glob("*.py")))
def test_each_web_module_imports_alone_in_a_fresh_interpreter(name):
    result = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
