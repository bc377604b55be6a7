"""The shape of the package, checked from its source: modules import each other without cycles
(imports inside functions included), no module imports another's private names, and no module
grows past the size a reader can hold."""

from __future__ import annotations

import ast
from pathlib import Path

from builders import ROOT

PACKAGE = ROOT / "sim"
MAX_LINES = 420  # "a few hundred lines at most": ~400, with a little slack for docstrings


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """Every import of a module, wherever it stands: (module imported from, names imported)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, [alias.name for alias in node.names]))
    return out


def _graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (``from a import b`` counts as importing ``a.b``
    when ``b`` is a module)."""
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        edges = set()
        for module, names in _imports(path):
            if module not in MODULES:
                continue
            submodules = [f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES]
            edges.update(submodules or [module])
        edges.discard(name)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as a path that ends where it starts, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_has_no_cycle():
    assert find_cycle(_graph()) is None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_imports_inside_functions():
    graph = _graph()
    assert graph.get("sim.cli")  # the CLI imports its verbs
    assert any(graph.values())


def test_no_module_imports_private_names_of_another():
    private = [
        f"{name}: {module}.{n}"
        for name, path in MODULES.items()
        for module, names in _imports(path)
        if module.startswith("sim")
        for n in names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert private == []


def test_no_module_is_longer_than_a_reader_can_hold():
    long = {name: n for name, p in MODULES.items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}
