"""Execution and order management: plans in, Kraken orders out, every step recorded.

The public face of the layer: strategy code imports everything it needs from here.

>>> from kraken_bot.execution import ExecutionConfig, ExecutionMode
>>> ExecutionConfig(mode="dry_run").mode is ExecutionMode.DRY_RUN
True

* Running it: `ExecutionService` (the contract's façade: ``execute_plan``,
  ``get_open_orders``, ``get_recent_executions``, ``cancel_order``, ``cancel_all``,
  ``refresh_from_exchange``), `KrakenExecutionAdapter`, `load_config`.
* Configuration: `AppConfig` and its sections, `ExecutionConfig` (checked at
  construction), `ConfigProblem`.
* Plans in: `ExecutionPlan`, `RiskAdjustedAction`, `ActionType`, `PlanProblem`.
* Results out: `LocalOrder`, `ExecutionResult`, `ActionSkip`, `ReconcileReport`, `SendStats`,
  and the enums `ExecutionMode`, `OrderStatus`, `OrderType`, `Side`, `TimeInForce`,
  `SkipReason`.
* Errors: every exception the layer raises on purpose, under `ExecutionError`:
  those of `kraken_bot.execution.exceptions` (which draws the whole tree and names
  them in its ``__all__``), and the few defined beside the shell code that raises them.

The pure exception module is imported at once; every other name loads on first use
(PEP 562, `kraken_bot._lazy`), so importing a pure module of this package
(``kraken_bot.execution.core.models``) pulls in no I/O library, and ``kraken_bot.config``,
which this package re-exports, can import ``kraken_bot.execution.core.models`` without
a cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kraken_bot._lazy import lazy_exports
from kraken_bot.execution import exceptions as _exceptions
from kraken_bot.execution.exceptions import *  # noqa: F403 - the error names, listed once there

if TYPE_CHECKING:
    from kraken_bot._problems import ConfigProblem, PlanProblem
    from kraken_bot.config import (
        AppConfig,
        ExecutionConfig,
        KrakenConfig,
        StorageConfig,
        StrategyConfig,
    )
    from kraken_bot.config_file import ConfigFileError, load_config
    from kraken_bot.execution.core.models import (
        ActionSkip,
        ExecutionMode,
        ExecutionResult,
        LocalOrder,
        OrderStatus,
        OrderType,
        Side,
        SkipReason,
        TimeInForce,
    )
    from kraken_bot.execution.core.reports import ReconcileReport, SendStats
    from kraken_bot.execution.shell.adapter import KrakenExecutionAdapter, LiveOrderRefusedError
    from kraken_bot.execution.shell.oms import ExecutionService
    from kraken_bot.execution.shell.scheduler import DeadManSwitchError
    from kraken_bot.kraken.nonce import NonceStateError
    from kraken_bot.kraken.signing import SigningKeyError
    from kraken_bot.market.api import UnknownPairError
    from kraken_bot.secret import Secret
    from kraken_bot.strategy.plan import (
        ActionType,
        ExecutionPlan,
        RiskAdjustedAction,
    )

_HOMES: dict[str, tuple[str, ...]] = {
    "kraken_bot._problems": ("ConfigProblem", "PlanProblem"),
    "kraken_bot.config": (
        "AppConfig",
        "ExecutionConfig",
        "KrakenConfig",
        "StorageConfig",
        "StrategyConfig",
    ),
    "kraken_bot.config_file": ("ConfigFileError", "load_config"),
    "kraken_bot.execution.core.reports": ("ReconcileReport", "SendStats"),
    "kraken_bot.execution.shell.adapter": ("KrakenExecutionAdapter", "LiveOrderRefusedError"),
    "kraken_bot.execution.core.models": (
        "ActionSkip",
        "ExecutionMode",
        "ExecutionResult",
        "LocalOrder",
        "OrderStatus",
        "OrderType",
        "Side",
        "SkipReason",
        "TimeInForce",
    ),
    "kraken_bot.execution.shell.oms": ("ExecutionService",),
    "kraken_bot.execution.shell.scheduler": ("DeadManSwitchError",),
    "kraken_bot.kraken.nonce": ("NonceStateError",),
    "kraken_bot.kraken.signing": ("SigningKeyError",),
    "kraken_bot.market.api": ("UnknownPairError",),
    "kraken_bot.secret": ("Secret",),
    "kraken_bot.strategy.plan": (
        "ActionType",
        "ExecutionPlan",
        "RiskAdjustedAction",
    ),
}
_EXPORTS: dict[str, str] = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "ActionSkip",
    "ActionType",
    "AppConfig",
    "ConfigFileError",
    "ConfigProblem",
    "DeadManSwitchError",
    "ExecutionConfig",
    "ExecutionMode",
    "ExecutionPlan",
    "ExecutionResult",
    "ExecutionService",
    "KrakenConfig",
    "KrakenExecutionAdapter",
    "LiveOrderRefusedError",
    "LocalOrder",
    "NonceStateError",
    "OrderStatus",
    "OrderType",
    "PlanProblem",
    "ReconcileReport",
    "RiskAdjustedAction",
    "Secret",
    "SendStats",
    "Side",
    "SigningKeyError",
    "SkipReason",
    "StorageConfig",
    "StrategyConfig",
    "TimeInForce",
    "UnknownPairError",
    "load_config",
]
__all__ += _exceptions.__all__


if not TYPE_CHECKING:  # the checker sees the names imported above, and no others
    __getattr__ = lazy_exports(globals(), _EXPORTS)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
