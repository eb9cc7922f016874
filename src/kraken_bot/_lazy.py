"""Lazy exports: a package's ``__getattr__`` that imports a name's module on first use.

A package that re-exports shell classes names them here instead of importing them, so
importing the package (or one of its pure modules) stays cheap and pulls in no I/O
library (PEP 562). The names are still imported under ``TYPE_CHECKING`` for the type
checker.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    namespace: MutableMapping[str, Any], exports: Mapping[str, str]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``namespace`` (the package's ``globals()``).

    ``exports`` maps each name to the module it comes from. The first lookup of a name
    imports that module and keeps the value in ``namespace``, so later lookups are plain.
    """

    def load(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return load
