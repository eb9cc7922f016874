"""Every exception class Krakked defines is under `ExecutionError`: one ``except`` catches
everything the library raises on purpose."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import kraken_bot
from kraken_bot.execution.exceptions import ExecutionError


def test_every_exception_krakked_defines_is_an_execution_error():
    defined: list[type[BaseException]] = []
    for module_info in pkgutil.walk_packages(kraken_bot.__path__, "kraken_bot."):
        if module_info.name.endswith(".__main__"):
            continue  # importing it runs the command line
        try:
            module = importlib.import_module(module_info.name)
        except ModuleNotFoundError as missing:  # an optional extra (matplotlib) not installed
            if (missing.name or "kraken_bot").startswith("kraken_bot"):
                raise
            continue
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.__name__:
                defined.append(value)
    assert len(defined) > 20, "the walk found the exception classes"
    outside = sorted(
        f"{c.__module__}.{c.__qualname__}" for c in defined if not issubclass(c, ExecutionError)
    )
    assert outside == []
