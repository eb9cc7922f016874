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
import importlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

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


# ------------------------------------------------ the execution package's two halves

EXECUTION = SRC / ROOT / "execution"
# The contract's module layout (and the design's pure modules beside it): public
# import paths that re-export a module of the core or the shell.
PUBLIC_PATHS = {
    "models": "core",
    "router": "core",
    "planner": "core",
    "lifecycle": "core",
    "policy": "core",
    "oms": "shell",
    "adapter": "shell",
    "scheduler": "shell",
    "store": "shell",
}


def says_pure(path: Path) -> bool:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    return docstring is not None and docstring.startswith("Pure")


def test_the_core_holds_only_pure_modules_and_the_shell_none():
    core = sorted((EXECUTION / "core").rglob("*.py"))
    shell = sorted((EXECUTION / "shell").rglob("*.py"))
    assert len(core) > 20
    assert len(shell) > 15
    assert [p for p in core if not says_pure(p)] == []
    assert [p for p in shell if says_pure(p)] == []


def test_beside_the_two_halves_stand_only_the_face_the_errors_and_the_public_paths():
    top = {p.stem for p in EXECUTION.glob("*.py")}
    assert top == {"__init__", "exceptions", *PUBLIC_PATHS}
    assert {p.name for p in EXECUTION.iterdir() if p.is_dir() and p.name != "__pycache__"} == {
        "core",
        "shell",
    }


def test_the_core_never_imports_the_shell():
    shell = (
        "kraken_bot.execution.shell",
        *(f"kraken_bot.execution.{n}" for n in ("oms", "adapter", "scheduler", "store")),
    )
    found = [
        f"{module_name(path)} -> {target}"
        for path in sorted((EXECUTION / "core").rglob("*.py"))
        for target in imports_of(path)
        if target.startswith(shell)
    ]
    assert found == []


@pytest.mark.parametrize(("name", "half"), sorted(PUBLIC_PATHS.items()))
def test_a_public_path_re_exports_its_module_and_nothing_else(name, half):
    path = EXECUTION / f"{name}.py"
    body = ast.parse(path.read_text(encoding="utf-8")).body
    imports = [node for node in body if isinstance(node, ast.ImportFrom)]
    assert [(node.module, [a.name for a in node.names]) for node in imports] == [
        (f"kraken_bot.execution.{half}.{name}", ["*"])
    ]
    assert says_pure(path) == (half == "core")
    public = importlib.import_module(f"kraken_bot.execution.{name}")
    module = importlib.import_module(f"kraken_bot.execution.{half}.{name}")
    everything = [n for n in vars(module) if not n.startswith("_") and n != "annotations"]
    names = list(getattr(module, "__all__", everything))
    assert names
    assert all(getattr(public, n) is getattr(module, n) for n in names)


def module_graph() -> dict[str, set[str]]:
    """module -> the project's modules it imports (anywhere in it, deferred ones too)."""
    known = {module_name(p) for p in (SRC / ROOT).rglob("*.py")}

    def targets(path: Path) -> set[str]:
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from package import module` imports the module, not the package's face
                subs = {f"{node.module}.{a.name}" for a in node.names} & known
                found |= subs or {node.module}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        return (found & known) - {module_name(path)}

    return {module_name(path): targets(path) for path in sorted((SRC / ROOT).rglob("*.py"))}


def test_no_module_imports_in_a_loop():
    """Not even through an import deferred into a function (the composition root and the
    service it builds once did: `compose` now builds parts and knows nothing of the
    service)."""
    graph = module_graph()
    assert "kraken_bot.execution.shell.compose" in graph
    loops = cycles({module: dict.fromkeys(targets) for module, targets in graph.items()})
    assert loops == []
