"""The layers stay apart: the core and its maps never import Flask, so the CLI, the library and
a batch job run without the web stack (and cannot grow a dependency on a request)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "stationmap"
#: Every module but the web layer's: the package's own files, maps/ and any other subpackage.
CORE = sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] != "web")


def imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from … import`` in the file names, at any depth (also
    inside functions), as written (relative imports keep their leading dots)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


def test_the_core_files_are_found():
    names = {p.relative_to(PACKAGE).as_posix() for p in CORE}
    assert {"index.py", "cli.py", "maps/html.py", "maps/picture.py"} <= names
    assert not any(name.startswith("web/") for name in names)


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_core_module_imports_flask(path):
    # (cli.py's `serve` command imports stationmap.web inside its function: that is the one
    # door from the core to the web layer, and the subprocess test below shows it stays shut.)
    bad = {name for name in imported_modules(path) if name.split(".")[0] in ("flask", "werkzeug")}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_importing_the_core_loads_no_flask():
    modules = ["stationmap." + p.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")
               for p in CORE if p.name != "__main__.py"]
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
