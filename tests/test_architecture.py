"""The package's layers: data flows one way, and no module imports another in a circle.

An ``ast`` walk rather than import-linter: it needs no extra dependency, and it counts every
import statement wherever it stands — under ``if TYPE_CHECKING:`` and inside functions too —
which is exactly the rule (a type-only import is still a dependency a reader must follow).
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import gatesim

PACKAGE = Path(gatesim.__file__).parent
ROOT_MODULES = {"errors", "fields", "i18n", "interrupts"}
LAYERS = {"scenario": 1, "engine": 2, "experiments": 3, "validation": 4, "output": 4, "cli": 5}
"""A module may import the root modules, its own room, and rooms of a lower layer."""
NEVER = {("output", "engine")}
"""Extra bans: output works from result tables and files, never from the engine."""


def module_name(path: Path, package: Path) -> str:
    parts = ("gatesim", *path.relative_to(package).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """Every gatesim module ``path`` imports, anywhere in the file."""
    found = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "gatesim"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                here = name.split(".") if is_package else name.split(".")[:-1]
                base = ".".join(here[:len(here) - node.level + 1] + ([base] if base else []))
            if base.split(".")[0] != "gatesim":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    return found


def graph(package: Path) -> dict[str, set[str]]:
    files = {module_name(p, package): p for p in package.rglob("*.py")}
    return {m: imports(p, m, set(files)) - {m} for m, p in files.items()}


def room(module: str) -> str | None:
    """The room of a module: a subpackage, 'cli', or None for the package root."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ROOT_MODULES:
        return None
    return parts[1]


def upward(g: dict[str, set[str]]) -> list[str]:
    """Imports that go up a layer, sideways between rooms, or into a banned room."""
    bad = []
    for src, targets in g.items():
        if src == "gatesim":
            continue  # the public facade sits on top and may import any room
        a = room(src)
        for dst in targets:
            b = room(dst)
            if dst == "gatesim":
                bad.append(f"{src} -> gatesim (the facade is on top, not below)")
            elif b is None:
                continue  # errors, fields, i18n and interrupts are below every room
            elif a is None:
                bad.append(f"{src} -> {dst} (a root module may import no room)")
            elif a != b and (LAYERS[b] >= LAYERS[a] or (a, b) in NEVER):
                bad.append(f"{src} -> {dst} ({a} may not import {b})")
    return bad


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_rooms_import_only_downwards():
    assert upward(graph(PACKAGE)) == []


def test_no_import_cycles_type_only_imports_included():
    assert cycles(graph(PACKAGE)) == []


def test_only_root_modules_and_cli_sit_directly_in_the_package():
    loose = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "cli", *ROOT_MODULES}
    assert loose == set()


def test_a_cycle_put_back_is_caught(tmp_path):
    """The checks can fail: the type-only import that made the old circle, put back."""
    copy = tmp_path / "gatesim"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    journey = copy / "engine" / "journey.py"
    journey.write_text(journey.read_text() + "\nif TYPE_CHECKING:\n"
                       "    from gatesim.engine.model import Model\n")
    found = cycles(graph(copy))
    assert any({"gatesim.engine.journey", "gatesim.engine.model"} <= set(c) for c in found)
    scenario = copy / "scenario" / "schema.py"
    scenario.write_text(scenario.read_text() + "\nfrom gatesim.engine.rng import stream\n")
    assert any("scenario may not import engine" in b for b in upward(graph(copy)))
    report = copy / "output" / "report.py"
    report.write_text(report.read_text() + "\nfrom gatesim.engine import model\n")
    assert any("output may not import engine" in b for b in upward(graph(copy)))
