"""The simulator shares no code with the client, owns its randomness, and reads time via its clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kraken_sim

SOURCES = sorted(Path(kraken_sim.__file__).parent.glob("*.py"))
WALL_CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("time", "time"),
    ("time", "monotonic"),
    ("time", "sleep"),
}


def imported_modules(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def attribute_calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            value = node.func.value
            if isinstance(value, ast.Name):
                yield value.id, node.func.attr


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_no_simulator_module_imports_the_client(source):
    modules = set(imported_modules(ast.parse(source.read_text())))
    assert not {m for m in modules if m == "kraken_bot" or m.startswith("kraken_bot.")}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_randomness_comes_only_from_owned_random_instances(source):
    calls = set(attribute_calls(ast.parse(source.read_text())))
    assert {
        (owner, name) for owner, name in calls if owner == "random" and name != "Random"
    } == set()


@pytest.mark.parametrize(
    "source", [s for s in SOURCES if s.name != "clock.py"], ids=lambda p: p.name
)
def test_only_the_clock_module_reads_the_wall_clock(source):
    assert set(attribute_calls(ast.parse(source.read_text()))) & WALL_CLOCK_CALLS == set()
