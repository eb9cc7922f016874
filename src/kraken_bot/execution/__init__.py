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
* Errors: every exception the layer raises on purpose, under `ExecutionError`
  (the tree is drawn in `kraken_bot.execution.exceptions`).

Names load on first use (PEP 562), so importing a pure module of this package
(``kraken_bot.execution.models``) pulls in no I/O library, and ``kraken_bot.config``,
which this package re-exports, can import ``kraken_bot.execution.models`` without
a cycle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kraken_bot._errors import CredentialsError, ExecutionError
    from kraken_bot._problems import ConfigProblem, PlanProblem
    from kraken_bot.config import (
        AppConfig,
        ExecutionConfig,
        KrakenConfig,
        StorageConfig,
        StrategyConfig,
    )
    from kraken_bot.config_file import ConfigFileError, load_config
    from kraken_bot.execution.adapter import KrakenExecutionAdapter, LiveOrderRefusedError
    from kraken_bot.execution.exceptions import (
        AccountInUseError,
        AmendRefusedError,
        CancelFailedError,
        ClockOffsetError,
        ConfigValidationError,
        LiveTradingRefusedError,
        MissingCredentialsError,
        NotInitializedError,
        PlanValidationError,
        RunRefusedError,
        StoreError,
        TxidTakenError,
        UnknownOrderError,
    )
    from kraken_bot.execution.models import (
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
    from kraken_bot.execution.oms import ExecutionService
    from kraken_bot.execution.reports import ReconcileReport, SendStats
    from kraken_bot.execution.scheduler import DeadManSwitchError
    from kraken_bot.kraken.errors import (
        AuthError,
        KrakenAPIError,
        NetworkError,
        NonceError,
        OrderRejectedError,
        RateLimitError,
        ServiceUnavailableError,
        UnexpectedResponseError,
    )
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
    "kraken_bot._errors": ("CredentialsError", "ExecutionError"),
    "kraken_bot._problems": ("ConfigProblem", "PlanProblem"),
    "kraken_bot.config": (
        "AppConfig",
        "ExecutionConfig",
        "KrakenConfig",
        "StorageConfig",
        "StrategyConfig",
    ),
    "kraken_bot.config_file": ("ConfigFileError", "load_config"),
    "kraken_bot.execution.reports": ("ReconcileReport", "SendStats"),
    "kraken_bot.execution.adapter": ("KrakenExecutionAdapter", "LiveOrderRefusedError"),
    "kraken_bot.execution.exceptions": (
        "AccountInUseError",
        "AmendRefusedError",
        "CancelFailedError",
        "ClockOffsetError",
        "ConfigValidationError",
        "LiveTradingRefusedError",
        "MissingCredentialsError",
        "NotInitializedError",
        "PlanValidationError",
        "RunRefusedError",
        "StoreError",
        "TxidTakenError",
        "UnknownOrderError",
    ),
    "kraken_bot.execution.models": (
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
    "kraken_bot.execution.oms": ("ExecutionService",),
    "kraken_bot.execution.scheduler": ("DeadManSwitchError",),
    "kraken_bot.kraken.errors": (
        "AuthError",
        "KrakenAPIError",
        "NetworkError",
        "NonceError",
        "OrderRejectedError",
        "RateLimitError",
        "ServiceUnavailableError",
        "UnexpectedResponseError",
    ),
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
    "AccountInUseError",
    "ActionSkip",
    "ActionType",
    "AmendRefusedError",
    "AppConfig",
    "AuthError",
    "CancelFailedError",
    "ClockOffsetError",
    "ConfigFileError",
    "ConfigProblem",
    "ConfigValidationError",
    "CredentialsError",
    "DeadManSwitchError",
    "ExecutionConfig",
    "ExecutionError",
    "ExecutionMode",
    "ExecutionPlan",
    "ExecutionResult",
    "ExecutionService",
    "KrakenAPIError",
    "KrakenConfig",
    "KrakenExecutionAdapter",
    "LiveOrderRefusedError",
    "LiveTradingRefusedError",
    "LocalOrder",
    "MissingCredentialsError",
    "NetworkError",
    "NonceError",
    "NonceStateError",
    "NotInitializedError",
    "OrderRejectedError",
    "OrderStatus",
    "OrderType",
    "PlanProblem",
    "PlanValidationError",
    "RateLimitError",
    "ReconcileReport",
    "RiskAdjustedAction",
    "RunRefusedError",
    "Secret",
    "SendStats",
    "ServiceUnavailableError",
    "Side",
    "SigningKeyError",
    "SkipReason",
    "StorageConfig",
    "StoreError",
    "StrategyConfig",
    "TimeInForce",
    "TxidTakenError",
    "UnexpectedResponseError",
    "UnknownOrderError",
    "UnknownPairError",
    "load_config",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
