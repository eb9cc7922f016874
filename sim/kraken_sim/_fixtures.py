"""Locate and read the bundled data files (AssetPairs/Assets snapshots, scenarios, faults).

In a source or editable checkout the files live in ``<repo>/fixtures``; an installed wheel
carries the same tree as package data under ``kraken_bot/_fixtures``. Only data is read from
there: the simulator imports no code from ``kraken_bot``.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any

__all__ = ["fixture_path", "load_json_fixture"]


@functools.cache
def _fixtures_root() -> Path:
    checkout = Path(__file__).resolve().parents[2] / "fixtures"
    if checkout.is_dir():
        return checkout
    # find_spec locates the installed package without executing any of its code.
    spec = importlib.util.find_spec("kraken_bot")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("kraken-sim data files not found (no fixtures/ directory)")
    return Path(next(iter(spec.submodule_search_locations))) / "_fixtures"


def fixture_path(*parts: str) -> Path:
    """The path of a bundled data file, e.g. ``fixture_path("scenarios", "default.yaml")``."""
    return _fixtures_root().joinpath(*parts)


@functools.cache
def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def load_json_fixture(path: Path) -> Any:
    """Parse a JSON data file once per process (the result must not be mutated)."""
    return _read_json(path.resolve())
