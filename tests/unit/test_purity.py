"""The functional core stays pure: no I/O imports, no shell imports, no clock reads.

A module is part of the core when its docstring starts with ``Pure``. For each
such module under ``src/`` these tests parse the source with `ast` and fail on:

* an import of an I/O or environment module (``requests``, ``sqlite3``,
  ``time``, ``random``, ``uuid``, ``os``, ``socket``, ``threading``,
  ``logging``, ``yaml``, ``typer``, ``rich``, ``returns.io``, the simulator, ...);
* an import of a shell module (``adapter``, ``oms``, ``scheduler``, ``store``,
  ``cli``, ``client``, ``nonce``), or of any first-party module that is not
  itself pure;
* a call of ``.now(``, ``.utcnow(`` or ``.today(`` (time is a parameter).

A last test imports every pure module in a fresh interpreter and checks that
no I/O library was loaded along the way (a package ``__init__`` re-exporting a
shell module would do that).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
FIRST_PARTY = "kraken_bot"

BANNED_TOP_LEVEL = frozenset(
    {
        # named by the style guide and the design
        "requests",
        "sqlite3",
        "time",
        "random",
        "uuid",
        "os",
        "socket",
        "threading",
        "logging",
        "yaml",
        "typer",
        "rich",
        "sim",
        "kraken_sim",
        # other doors to the outside world
        "asyncio",
        "concurrent",
        "freezegun",
        "http",
        "importlib",
        "io",
        "multiprocessing",
        "pathlib",
        "secrets",
        "select",
        "selectors",
        "shutil",
        "signal",
        "ssl",
        "subprocess",
        "sys",
        "tempfile",
        "urllib3",
    }
)
BANNED_MODULES = frozenset({"returns.io", "urllib.request"})
SHELL_COMPONENTS = frozenset({"adapter", "oms", "scheduler", "store", "cli", "client", "nonce"})
CLOCK_READS = frozenset({"now", "utcnow", "today"})
LOADED_IO = (
    "requests",
    "urllib3",
    "sqlite3",
    "socket",
    "ssl",
    "threading",
    "logging",
    "random",
    "uuid",
    "yaml",
    "typer",
    "rich",
    "kraken_sim",
    "http.client",
)


@dataclass(frozen=True, slots=True)
class Violation:
    module: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.what}"


def is_pure(source: str) -> bool:
    docstring = ast.get_docstring(ast.parse(source))
    return docstring is not None and docstring.startswith("Pure")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def pure_modules() -> dict[str, Path]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        if is_pure(path.read_text(encoding="utf-8")):
            found[module_name(path)] = path
    return found


def first_party_path(module: str) -> Path | None:
    base = SRC.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def imported_modules(tree: ast.AST, module: str, *, is_package: bool) -> list[tuple[int, str]]:
    """Every module an import statement names, absolute, with its line."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def import_problem(name: str, *, check_purity: bool) -> str | None:
    parts = name.split(".")
    if parts[0] in BANNED_TOP_LEVEL or any(
        name == banned or name.startswith(banned + ".") for banned in BANNED_MODULES
    ):
        return f"imports {name} (I/O or environment)"
    if parts[0] != FIRST_PARTY:
        return None
    if SHELL_COMPONENTS & set(parts[1:]):
        return f"imports the shell module {name}"
    path = first_party_path(name)
    if path is None or path.name == "__init__.py" or not check_purity:
        return None  # a name inside a module, or a package (checked by the import test below)
    if not is_pure(path.read_text(encoding="utf-8")):
        return f"imports {name}, which is not marked Pure"
    return None


def clock_reads(tree: ast.AST) -> list[tuple[int, str]]:
    return [
        (node.lineno, f"calls .{node.func.attr}() (time must be a parameter)")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_READS
    ]


def violations(
    source: str, module: str, *, is_package: bool = False, check_purity: bool = True
) -> list[Violation]:
    """Everything that makes ``source`` (the module ``module``) impure."""
    tree = ast.parse(source)
    found = [
        Violation(module, line, problem)
        for line, name in imported_modules(tree, module, is_package=is_package)
        if (problem := import_problem(name, check_purity=check_purity)) is not None
    ]
    found += [Violation(module, line, what) for line, what in clock_reads(tree)]
    return found


PURE = pure_modules()


# ---------------------------------------------------------------- the checker catches violations


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("import requests", "imports requests"),
        ("import os.path", "imports os.path"),
        ("from time import monotonic", "imports time"),
        ("import random as r", "imports random"),
        ("from uuid import uuid4", "imports uuid"),
        ("from returns.io import IOResult", "imports returns.io"),
        ("from returns import io", "imports returns.io"),
        ("from kraken_sim import Exchange", "imports kraken_sim"),
        ("from kraken_bot.execution import oms", "shell module kraken_bot.execution.oms"),
        ("from kraken_bot.kraken.client import C", "shell module kraken_bot.kraken.client"),
        ("from . import adapter", "shell module kraken_bot.execution.adapter"),
        ("from ..kraken import nonce", "shell module kraken_bot.kraken.nonce"),
        ("from kraken_bot import clock", "kraken_bot.clock, which is not marked Pure"),
        ("now = datetime.now(UTC)", "calls .now()"),
        ("d = date.today()", "calls .today()"),
        ("def f(clock):\n    return clock.utcnow()", "calls .utcnow()"),
    ],
)
def test_the_checker_catches_a_violating_snippet(snippet, expected):
    source = f'"""Pure: example."""\n{snippet}\n'
    found = violations(source, "kraken_bot.execution.example")
    assert found, f"the checker missed: {snippet}"
    assert any(expected in v.what for v in found), found


def test_the_checker_accepts_a_clean_pure_snippet():
    source = textwrap.dedent(
        '''\
        """Pure: example."""
        from dataclasses import dataclass
        from datetime import UTC, datetime
        from decimal import Decimal
        from pyrsistent import pmap
        from returns.result import Result
        from kraken_bot.execution.core.models import LocalOrder
        from . import router

        def f(now: datetime) -> datetime:
            return now.replace(tzinfo=UTC)
        '''
    )
    assert violations(source, "kraken_bot.execution.example") == []


def test_the_checker_sees_only_modules_that_say_they_are_pure():
    assert is_pure('"""Pure: x."""')
    assert not is_pure('"""Shell: x. Pure functions elsewhere."""')
    assert not is_pure("import os")


# ---------------------------------------------------------------- the real core


def test_the_execution_core_is_marked_pure():
    core = {
        f"kraken_bot.execution.{m}" for m in ("models", "planner", "router", "lifecycle", "policy")
    }
    assert core <= set(PURE)


@pytest.mark.parametrize("module", sorted(PURE))
def test_a_pure_module_imports_no_io_no_shell_and_reads_no_clock(module):
    path = PURE[module]
    found = violations(
        path.read_text(encoding="utf-8"), module, is_package=path.name == "__init__.py"
    )
    assert not found, "\n".join(map(str, found))


def test_importing_every_pure_module_loads_no_io_library():
    script = textwrap.dedent(
        f"""\
        import importlib, sys
        for name in {sorted(PURE)!r}:
            importlib.import_module(name)
        loaded = [m for m in {LOADED_IO!r} if m in sys.modules]
        shell = [m for m in sys.modules
                 if m.startswith("kraken_bot.") and set(m.split(".")) & {set(SHELL_COMPONENTS)!r}]
        print(sorted(loaded + shell))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
