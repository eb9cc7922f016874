"""The layout shows the design: packages import one way only, and the floors hold.

Every import in ``src/kraken_bot`` is read from the source (module level, inside
functions and under ``TYPE_CHECKING`` alike: an import there is still a
dependency a reader must follow). A *unit* is a subpackage (``execution``,
``kraken``, ...) or a top-level module (``config``, ``_errors``, ...). The units'
import graph must have no cycle, so each can be understood (and tested) with
only what is below it. Purity (a ``Pure:`` module imports no I/O and no shell)
is `tests/unit/test_purity.py`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
ROOT = "kraken_bot"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != ROOT:
        return None
    return parts[1] if len(parts) > 1 else ROOT


def imports_of(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            for alias in node.names:  # `from kraken_bot import config`
                yield f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def unit_graph() -> dict[str, dict[str, set[str]]]:
    """unit -> imported unit -> the module-level edges behind the arrow."""
    known = {module_name(p) for p in (SRC / ROOT).rglob("*.py")}
    graph: dict[str, dict[str, set[str]]] = {}
    for path in sorted((SRC / ROOT).rglob("*.py")):
        source = module_name(path)
        here = unit_of(source)
        assert here is not None
        graph.setdefault(here, {})
        for target in imports_of(path):
            if target not in known:
                continue  # a name imported from a module, not a module
            there = unit_of(target)
            if there is not None and there not in {here, ROOT}:
                graph[here].setdefault(there, set()).add(f"{source} -> {target}")
    return graph


def reachable(graph: Mapping[str, Mapping[str, object]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph.get(start, {}))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, {}))
    return seen


def cycles(graph: Mapping[str, Mapping[str, object]]) -> list[list[str]]:
    """The groups of units that reach one another (each a loop of imports)."""
    reach = {node: reachable(graph, node) for node in graph}
    groups = {
        tuple(sorted(other for other in reach[node] if node in reach.get(other, set())))
        for node in graph
        if node in reach[node]
    }
    return sorted(list(group) for group in groups)


def test_the_cycle_finder_finds_a_loop_and_accepts_a_ladder():
    assert cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {}}) == []


def test_no_package_imports_in_a_loop():
    graph = unit_graph()
    assert {"execution", "kraken", "config", "market", "cli"} <= set(graph)
    loops = cycles(graph)
    why = [
        edge for loop in loops for a in loop for b in loop for edge in sorted(graph[a].get(b, ()))
    ]
    assert loops == [], "\n".join(why)


def test_the_leaves_import_nothing_of_the_project():
    """Errors, problems, shared words, closing, lazy exports, memos, clock and secret: below all."""
    graph = unit_graph()
    for leaf in (
        "_errors",
        "_problems",
        "_enums",
        "_closing",
        "_lazy",
        "_memo",
        "clock",
        "secret",
        "region",
    ):
        assert set(graph[leaf]) <= {"_problems"}, (leaf, graph[leaf])


def test_the_kraken_client_does_not_know_the_layers_above_it():
    graph = unit_graph()
    above = {"execution", "market", "config_file", "runtime", "cli", "simulation", "strategy"}
    assert not set(graph["kraken"]) & above, graph["kraken"]
