"""Issue 13, tried as a new user would: the contract's names and types, impossible to misuse.

One test per finding of the issue, against the fake exchange (in-process, virtual time),
importing only from the public package. The CLI's findings are tested where the CLI is:
a malformed secret exits 5, ``config check`` refuses ``validate_only: false`` outside live
mode, ``krakked --version`` (``tests/e2e/test_cli_errors.py``); a plan id with U+202E is
escaped (``tests/e2e/test_cli_commands.py``, ``tests/unit/test_cli_output.py``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from tests.harness import action, plan, sim_stack

from kraken_bot.execution import (
    ActionType,
    ExecutionConfig,
    ExecutionMode,
    ExecutionPlan,
    ExecutionService,
    LiveTradingRefusedError,
    OrderStatus,
    PlanValidationError,
    ReconcileReport,
    RiskAdjustedAction,
    load_config,
)


def test_dry_run_spelled_as_the_contract_spells_it_sends_nothing(tmp_path):
    stack = sim_stack(tmp_path, execution=ExecutionConfig(mode="dry_run"))
    service = stack.service()
    result = service.execute_plan(plan("dry", action("XBTUSD", "0", "0.01")))
    assert result.mode is ExecutionMode.DRY_RUN
    assert [o.status for o in result.orders] == [OrderStatus.SIMULATED]
    assert result.success
    assert stack.private_calls() == []  # not even a validate-only AddOrder
    stack.close()


def test_live_as_a_string_is_refused_without_the_opt_ins_and_places_orders_with_them(tmp_path):
    with pytest.raises(LiveTradingRefusedError, match="allow_live_trading"):
        ExecutionConfig(mode="live")
    live = ExecutionConfig(
        mode="live", allow_live_trading=True, validate_only=False, dead_man_switch_seconds=0
    )
    stack = sim_stack(tmp_path, execution=live)
    result = stack.service().execute_plan(plan("live", action("XBTUSD", "0", "0.01")))
    assert all("validate" not in body for body in stack.sent("AddOrder"))
    assert len(stack.exchange_orders()) == 1
    assert result.orders[0].kraken_order_id is not None
    stack.close()


def test_the_service_and_its_report_come_from_the_public_package(tmp_path):
    stack = sim_stack(tmp_path)
    service = stack.service()
    assert isinstance(service, ExecutionService)
    report = service.refresh_from_exchange()
    assert isinstance(report, ReconcileReport)
    assert report.ok
    stack.close()


def test_a_plan_with_float_sizes_is_refused_where_it_is_built_not_in_the_planner():
    sizes: dict[str, Any] = {"current_base_size": 0.1, "target_base_size": 0.25}
    with pytest.raises(PlanValidationError) as refused:
        RiskAdjustedAction(
            pair="XBTUSD", strategy_id="trend", action_type=ActionType.INCREASE, **sizes
        )
    assert {p.path for p in refused.value.problems} == {"current_base_size", "target_base_size"}
    assert "pass Decimal('0.25')" in str(refused.value)


def test_a_plan_built_in_code_is_checked_without_a_separate_step(tmp_path):
    stack = sim_stack(tmp_path)
    service = stack.service()
    with pytest.raises(PlanValidationError, match="created_at"):
        service.execute_plan(
            ExecutionPlan(plan_id="naive", created_at=datetime(2026, 1, 1), actions=())
        )
    good = ExecutionPlan(
        plan_id="decimal",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        actions=(
            RiskAdjustedAction(
                pair="XBTUSD",
                strategy_id="trend",
                action_type=ActionType.INCREASE,
                current_base_size=Decimal(0),
                target_base_size=Decimal("0.01"),
            ),
        ),
    )
    assert service.execute_plan(good).success
    assert stack.private_calls("AddOrder")
    stack.close()


def test_raw_request_serialises_with_json_dumps_fresh_and_after_a_restart(tmp_path):
    stack = sim_stack(tmp_path)
    result = stack.service().execute_plan(plan("json", action("XBTUSD", "0", "0.01")))
    order = result.orders[0]
    sent = json.loads(json.dumps(order.raw_request))
    assert sent["pair"] == "XXBTZUSD"
    assert sent["volume"] == "0.01000000"
    assert "nonce" not in sent
    reloaded = stack.service().get_order(order.local_id)  # a new service reads the database
    assert json.dumps(reloaded.raw_request, sort_keys=True) == json.dumps(sent, sort_keys=True)
    with pytest.raises(TypeError):
        reloaded.raw_request["volume"] = "1"  # type: ignore[index] # read-only
    stack.close()


def test_an_unsafe_live_config_is_the_same_error_from_a_file_and_from_code(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("execution:\n  mode: live\n  validate_only: false\n")
    with pytest.raises(LiveTradingRefusedError) as from_file:
        load_config(path, env={})
    with pytest.raises(LiveTradingRefusedError) as from_code:
        ExecutionConfig(mode="live", validate_only=False)
    assert from_file.value.problems == from_code.value.problems
