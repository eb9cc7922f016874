"""The public face: `kraken_bot.execution` exports exactly the contract's names, and its errors.

The names are pinned here at run time (and their types in ``tests/typing/api.py``,
which mypy checks): adding, removing or renaming one is a deliberate change.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import kraken_bot
import kraken_bot.execution as execution
from kraken_bot.execution import exceptions

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = [
    # the façade, the adapter, loading a config
    "ExecutionService",
    "KrakenExecutionAdapter",
    "load_config",
    # configuration
    "AppConfig",
    "ConfigProblem",
    "ExecutionConfig",
    "KrakenConfig",
    "Secret",
    "StorageConfig",
    "StrategyConfig",
    # plans in
    "ActionType",
    "ExecutionPlan",
    "PlanProblem",
    "RiskAdjustedAction",
    # results out
    "ActionSkip",
    "ExecutionMode",
    "ExecutionResult",
    "LocalOrder",
    "OrderStatus",
    "OrderType",
    "ReconcileReport",
    "SendStats",
    "Side",
    "SkipReason",
    "TimeInForce",
    # errors
    "AccountInUseError",
    "AmendRefusedError",
    "AuthError",
    "CancelFailedError",
    "ClockOffsetError",
    "ConfigFileError",
    "ConfigValidationError",
    "CredentialsError",
    "DeadManSwitchError",
    "ExecutionError",
    "KrakenAPIError",
    "LiveOrderRefusedError",
    "LiveTradingRefusedError",
    "MissingCredentialsError",
    "NetworkError",
    "NonceError",
    "NonceStateError",
    "NotInitializedError",
    "OrderRejectedError",
    "PlanValidationError",
    "RateLimitError",
    "RunRefusedError",
    "ServiceUnavailableError",
    "SigningKeyError",
    "StoreError",
    "TxidTakenError",
    "UnexpectedResponseError",
    "UnknownOrderError",
    "UnknownPairError",
]

ERRORS = {name for name in EXPECTED if name.endswith("Error")}
OUTSIDE_THE_ROOT: set[str] = set()


def test_the_package_exports_exactly_the_expected_names():
    assert sorted(execution.__all__) == sorted(EXPECTED)
    assert len(set(execution.__all__)) == len(execution.__all__)


@pytest.mark.parametrize("name", EXPECTED)
def test_every_exported_name_resolves_to_its_defining_object(name):
    value = getattr(execution, name)
    assert value is not None
    if inspect.isclass(value) or inspect.isfunction(value):
        home = importlib.import_module(value.__module__)
        assert getattr(home, name) is value


def test_a_name_that_is_not_exported_is_an_attribute_error():
    with pytest.raises(AttributeError, match="ExecutionServce"):
        execution.ExecutionServce  # type: ignore[attr-defined]  # noqa: B018 - the access is the test


def test_star_import_and_dir_list_the_public_names():
    namespace: dict[str, object] = {}
    exec("from kraken_bot.execution import *", namespace)
    assert set(EXPECTED) <= set(namespace)
    assert set(EXPECTED) <= set(dir(execution))


@pytest.mark.parametrize(
    "module",
    [
        "kraken_bot.config",
        "kraken_bot.config_file",
        "kraken_bot.execution",
        "kraken_bot.execution.core.models",
        "kraken_bot.execution.exceptions",
        "kraken_bot.execution.shell.adapter",
        "kraken_bot.execution.shell.oms",
        "kraken_bot.kraken.errors",
        "kraken_bot.kraken.signing",
        "kraken_bot.strategy.plan",
        "kraken_bot.cli",
    ],
)
def test_each_entry_point_imports_first_in_a_fresh_interpreter(module):
    """No import cycle, whichever module a program imports first."""
    script = f"import {module}; from kraken_bot.execution import *; print(ExecutionService)"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert "ExecutionService" in result.stdout


def test_importing_the_package_loads_no_io_until_a_shell_name_is_used():
    script = (
        "import sys, kraken_bot.execution as e\n"
        "print(sorted(m for m in ('requests', 'sqlite3', 'yaml', 'rich') if m in sys.modules))\n"
        "e.ExecutionService\n"
        "print('sqlite3' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.split() == ["[]", "True"]


# ---------------------------------------------------------------- the error tree


@pytest.mark.parametrize("name", sorted(ERRORS - OUTSIDE_THE_ROOT))
def test_every_exported_error_is_under_the_one_root(name):
    assert issubclass(getattr(execution, name), execution.ExecutionError)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_every_exported_error_is_documented_in_the_tree_and_says_when_it_is_raised(name):
    error = getattr(execution, name)
    assert name in (exceptions.__doc__ or ""), f"{name} is missing from the drawn tree"
    doc = inspect.getdoc(error) or ""
    assert doc, f"{name} has no docstring"


def _kraken_bot_modules() -> list[str]:
    return [
        info.name
        for info in pkgutil.walk_packages(kraken_bot.__path__, "kraken_bot.")
        if ".cli" not in info.name  # the CLI's own CliError never leaves the CLI
    ]


def test_every_exception_the_library_defines_is_reachable_from_the_package():
    defined = set()
    for name in _kraken_bot_modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == name
            ):
                defined.add(value)
    exported = {getattr(execution, name) for name in ERRORS}
    assert defined == exported, {e.__name__ for e in defined ^ exported}


def test_live_refused_is_one_error_from_code_from_a_file_and_from_the_adapter():
    refused = execution.LiveTradingRefusedError
    assert issubclass(refused, execution.ConfigValidationError)
    assert issubclass(execution.LiveOrderRefusedError, refused)
    assert issubclass(execution.ConfigFileError, execution.ConfigValidationError)
    assert issubclass(execution.ConfigValidationError, ValueError)
    assert issubclass(execution.SigningKeyError, execution.CredentialsError)
    assert issubclass(execution.MissingCredentialsError, execution.CredentialsError)


# ---------------------------------------------------------------- the typing test


def test_mypy_checks_the_typing_test_of_the_public_api():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "tests" in config["tool"]["mypy"]["files"]
    pinned = importlib.import_module("tests.typing.api")
    source = inspect.getsource(pinned)
    for name in ("ExecutionService", "ExecutionConfig", "ReconcileReport", "LocalOrder"):
        assert name in source
