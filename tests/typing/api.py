"""The public face of `kraken_bot.execution`, pinned for the type checker (not run by pytest).

mypy checks this module in CI (``files`` includes ``tests``): a change to a public
name, parameter or return type breaks it, so the change is deliberate. Each
``assert_type`` pins a type exactly; each ``# type: ignore[...]`` pins a misuse the
checker must keep refusing (``warn_unused_ignores`` fails the run if it stops).
Nothing here runs: the functions are only type-checked (and imported by
``tests/unit/test_public_api.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, assert_type

from kraken_bot.execution import (
    ActionType,
    AppConfig,
    ConfigProblem,
    ConfigValidationError,
    ExecutionConfig,
    ExecutionError,
    ExecutionMode,
    ExecutionPlan,
    ExecutionResult,
    ExecutionService,
    KrakenAPIError,
    KrakenExecutionAdapter,
    LiveTradingRefusedError,
    LocalOrder,
    OrderStatus,
    OrderType,
    PlanProblem,
    PlanValidationError,
    ReconcileReport,
    RiskAdjustedAction,
    Side,
    StorageConfig,
    TimeInForce,
    load_config,
)

if TYPE_CHECKING:
    # A name a package does not export is refused, though the packages load their names
    # lazily (their ``__getattr__`` is hidden from the checker): a misspelt import fails
    # the type check, not a strategy at run time.
    from kraken_bot.execution import ExecutionServise  # type: ignore[attr-defined]  # noqa: F401
    from kraken_bot.kraken import KrakenRestClient  # type: ignore[attr-defined]  # noqa: F401
    from kraken_bot.market import MarketDataApi  # type: ignore[attr-defined]  # noqa: F401


def the_config_takes_the_contracts_spellings_and_gives_enums() -> None:
    config = ExecutionConfig(
        mode="dry_run",
        default_order_type="limit",
        time_in_force="GTC",
        max_slippage_bps=50,
        min_order_notional_usd=20.0,
        max_pair_notional_usd=Decimal(5000),
        retry_backoff_seconds=2,
    )
    assert_type(config.mode, ExecutionMode)
    assert_type(config.default_order_type, OrderType)
    assert_type(config.time_in_force, TimeInForce)
    assert_type(config.min_order_notional_usd, Decimal)
    assert_type(config.max_pair_notional_usd, Decimal | None)
    assert_type(config.retry_backoff_seconds, float)
    assert_type(config.sends_live_orders, bool)
    assert_type(config.problems(), tuple[ConfigProblem, ...])
    ExecutionConfig(mode=ExecutionMode.LIVE, allow_live_trading=True, validate_only=False)
    ExecutionConfig(mode="dryrun")  # type: ignore[arg-type] # not a mode
    ExecutionConfig(time_in_force="gtc")  # type: ignore[arg-type] # Kraken's spelling is GTC
    ExecutionConfig(max_retries="3")  # type: ignore[arg-type] # counts are ints
    ExecutionConfig(modes="paper")  # type: ignore[call-arg] # no such field


def loading_a_file_gives_an_app_config(path: Path) -> AppConfig:
    config = load_config(path)
    assert_type(config.execution, ExecutionConfig)
    assert_type(config.storage, StorageConfig)
    assert_type(load_config(), AppConfig)
    return config


def refusals_carry_their_problems(error: ConfigValidationError, plan: PlanValidationError) -> None:
    assert_type(error.problems, tuple[ConfigProblem, ...])
    assert_type(plan.problems, tuple[PlanProblem, ...])
    live: ConfigValidationError = LiveTradingRefusedError("refused")
    root: ExecutionError = live
    kraken: ExecutionError = KrakenAPIError("x")
    assert isinstance(root, ValueError)
    assert isinstance(kraken, Exception)


def a_plan_is_built_from_decimals() -> ExecutionPlan:
    action = RiskAdjustedAction(
        pair="XBTUSD",
        strategy_id="trend_v1",
        action_type=ActionType.INCREASE,
        current_base_size=Decimal("0.10"),
        target_base_size=Decimal("0.25"),
    )
    assert_type(action.target_base_size, Decimal)
    assert_type(action.block_reasons, tuple[str, ...])
    RiskAdjustedAction(
        pair="XBTUSD",
        strategy_id=None,
        action_type=ActionType.OPEN,
        current_base_size=Decimal(0),
        target_base_size=0.25,  # type: ignore[arg-type] # floats are refused: inexact
    )
    plan = ExecutionPlan(plan_id="p", created_at=datetime.now(UTC), actions=(action,))
    assert_type(plan.actions, tuple[RiskAdjustedAction, ...])
    return plan


def the_service_answers_with_the_contracts_types(config: AppConfig, plan: ExecutionPlan) -> None:
    with ExecutionService.from_config(config) as service:
        assert_type(service, ExecutionService)
        result = service.execute_plan(plan)
        assert_type(result, ExecutionResult)
        assert_type(service.get_open_orders(), list[LocalOrder])
        assert_type(service.get_open_orders(include_in_flight=True), list[LocalOrder])
        assert_type(service.get_recent_executions(), list[ExecutionResult])
        assert_type(service.get_recent_executions(limit=5), list[ExecutionResult])
        assert_type(service.get_order("id"), LocalOrder)
        assert_type(service.cancel_order("id"), LocalOrder)
        assert_type(service.cancel_all(), None)
        assert_type(service.refresh_from_exchange(), ReconcileReport)
        assert_type(service.adapter, KrakenExecutionAdapter | None)
        service.execute_plan("plan.yaml")  # type: ignore[arg-type] # a plan, not a file
    service.initialize()
    service.close()


def results_and_orders_read_as_the_contract_says(result: ExecutionResult) -> None:
    assert_type(result.plan_id, str)
    assert_type(result.started_at, datetime)
    assert_type(result.completed_at, datetime | None)
    assert_type(result.success, bool)
    orders: Sequence[LocalOrder] = result.orders
    errors: Sequence[str] = result.errors
    assert_type(result.mode, ExecutionMode)
    for order in orders:
        assert_type(order.local_id, str)
        assert_type(order.plan_id, str | None)
        assert_type(order.side, Side)
        assert_type(order.order_type, OrderType)
        assert_type(order.kraken_order_id, str | None)
        assert_type(order.userref, int | None)
        assert_type(order.requested_base_size, Decimal)
        assert_type(order.requested_price, Decimal | None)
        assert_type(order.status, OrderStatus)
        assert_type(order.cumulative_base_filled, Decimal)
        assert_type(order.avg_fill_price, Decimal | None)
        assert_type(order.last_error, str | None)
        request: Mapping[str, str] = order.raw_request
        json.dumps(request)
        assert_type(order.raw_response, dict[str, Any] | None)
        order.status = OrderStatus.FILLED  # type: ignore[misc] # records are immutable
    del errors


def a_report_says_what_reconciling_did(report: ReconcileReport) -> None:
    assert_type(report.ok, bool)
    assert_type(report.checked, int)
    assert_type(report.adopted, int)
