"""The package's import graph keeps its layers: no import cycle, and storage imports no analysis or UI.

The graph is read from the source with ``ast`` (nothing is imported), counting every import: module level,
function level (late imports) and ``if TYPE_CHECKING:`` blocks alike. A late or type-only import hides a cycle
from Python's import machinery, not from the design: the modules still depend on each other.

Layers: ``schema`` at the bottom; ``store`` (durable storage) on top of it only; ``quality`` (analysis),
``formats`` and ``simulate`` beside the store; ``widget``, ``audit`` and ``team`` (the UI and its sessions) on
top. A lower layer never imports a higher one.
"""

from __future__ import annotations

import ast
import sys
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path

import rank_widget

PACKAGE = "rank_widget"
STORE = "rank_widget.store"
# What rank_widget.store may import from the rest of the package: the label schema, nothing else. Analysis
# (quality), the widgets (widget, audit, team), formats and simulate sit above storage.
# The data contract, and one leaf helper (it imports nothing from the package: see the test below).
STORE_MAY_IMPORT = frozenset({"rank_widget.schema", "rank_widget.gc_pause"})
STORE_MUST_NOT_IMPORT = ("quality", "widget", "audit", "team", "formats", "simulate")
# Third-party libraries the store may use (the standard library is always allowed).
STORE_THIRD_PARTY = frozenset({"sqlalchemy", "pandas", "numpy", "orjson"})


def _modules(src: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package (a package is its __init__.py)."""
    out: dict[str, Path] = {}
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imported_names(module: str, path: Path) -> Iterator[str]:
    """The absolute dotted name of everything ``module`` imports: ``import a.b`` gives ``a.b``, and so does
    ``from a import b`` (a submodule, or a name defined in ``a``: the caller tells them apart)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package, one level up per extra dot
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _graph(modules: Mapping[str, Path]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(module -> the package's modules it imports, module -> top-level names of the outside packages it
    imports). ``from rank_widget.store import Store`` is an edge to the package ``rank_widget.store``."""
    inside: dict[str, set[str]] = {m: set() for m in modules}
    outside: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for name in _imported_names(module, path):
            if name.partition(".")[0] != PACKAGE:
                outside[module].add(name.partition(".")[0])
                continue
            while name not in modules:  # a name defined in a module: the edge goes to that module
                name = name.rpartition(".")[0]
            if name != module:
                inside[module].add(name)
    return inside, outside


Cycle = tuple[list[str], set[str]]


def _cycles(graph: Mapping[str, set[str]]) -> list[Cycle]:
    """Per strongly connected component with a cycle: a shortest cycle through its first module (that module
    repeated at the end) and the component's modules (each on some cycle with the others)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm; the graph has a few dozen nodes
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.add(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [(_cycle_path(graph, component), component) for component in components]


def _cycle_path(graph: Mapping[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first search back to it)."""
    start = min(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for nxt in sorted(graph[node] & component):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if nxt not in came_from:
                    came_from[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {start} in {sorted(component)}")  # a component always has one


def _show(cycles: list[Cycle]) -> str:
    shown = []
    for path, component in cycles:
        others = sorted(component - set(path))
        shown.append(" -> ".join(path) + (f" (and in the same cycle: {', '.join(others)})" if others else ""))
    return "; ".join(shown)


SRC = Path(rank_widget.__file__).resolve().parent  # PYTHONPATH decides which checkout is checked
MODULES = _modules(SRC)
INSIDE, OUTSIDE = _graph(MODULES)
STORE_MODULES = sorted(m for m in MODULES if m == STORE or m.startswith(STORE + "."))


def test_the_graph_sees_late_type_only_and_relative_imports(tmp_path: Path) -> None:
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low.py").write_text("X = 1\n")
    (pkg / "sub" / "__init__.py").write_text("from .mod import Y\n")
    (pkg / "sub" / "mod.py").write_text(
        textwrap.dedent(
            """
            from typing import TYPE_CHECKING
            import numpy as np
            if TYPE_CHECKING:
                from ..low import X
            def late():
                from rank_widget import sub
                from rank_widget.sub import Y
                import rank_widget.low
            Y = 2
            """
        )
    )
    inside, outside = _graph(_modules(pkg))
    assert inside["rank_widget.sub.mod"] == {"rank_widget.low", "rank_widget.sub"}
    assert inside["rank_widget.sub"] == {"rank_widget.sub.mod"}
    assert outside["rank_widget.sub.mod"] == {"typing", "numpy"}
    # ... and the cycle finder finds cycles: a -> b -> c -> a, with d on a second path back to a
    found = _cycles({"a": {"b", "d"}, "b": {"c"}, "c": {"a"}, "d": {"c"}, "e": {"a"}})
    assert found == [(["a", "b", "c", "a"], {"a", "b", "c", "d"})]
    assert _show(found) == "a -> b -> c -> a (and in the same cycle: d)"
    # the real package was found, store included
    assert {f"{STORE}.core", f"{STORE}.tables", f"{STORE}.queues", f"{STORE}.assign"} <= set(STORE_MODULES)


def test_no_import_cycle_inside_the_store() -> None:
    store_graph = {m: INSIDE[m] & set(STORE_MODULES) for m in STORE_MODULES}
    cycles = _cycles(store_graph)
    assert not cycles, f"import cycle(s) in {STORE}: {_show(cycles)}"


def test_the_helpers_the_store_may_import_are_leaves() -> None:
    assert not INSIDE["rank_widget.gc_pause"], INSIDE["rank_widget.gc_pause"]


def test_the_store_imports_only_the_schema_from_the_package() -> None:
    wrong = {
        m: sorted(t for t in INSIDE[m] if t not in STORE_MODULES and t not in STORE_MAY_IMPORT)
        for m in STORE_MODULES
    }
    wrong = {m: targets for m, targets in wrong.items() if targets}
    assert not wrong, f"{STORE} may import only {sorted(STORE_MAY_IMPORT)} from the package; found {wrong}"
    upward = [
        f"{m} -> {t}"
        for m in STORE_MODULES
        for t in INSIDE[m]
        if t.removeprefix(PACKAGE + ".").partition(".")[0] in STORE_MUST_NOT_IMPORT
    ]
    assert not upward, f"storage must not depend on analysis, widgets or formats: {upward}"


def test_the_store_uses_only_its_database_libraries() -> None:
    found = {
        m: sorted(n for n in OUTSIDE[m] if n not in sys.stdlib_module_names and n not in STORE_THIRD_PARTY)
        for m in STORE_MODULES
    }
    found = {m: names for m, names in found.items() if names}
    assert not found, f"{STORE} imports libraries outside {sorted(STORE_THIRD_PARTY)}: {found}"


def test_no_import_cycle_in_the_package() -> None:
    cycles = _cycles(INSIDE)
    assert not cycles, f"import cycle(s) in {PACKAGE} (late imports count): {_show(cycles)}"
