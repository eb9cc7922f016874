"""Starting, stopping, restarting and refusing: the service's safety behaviour end to end."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from tests.builders import an_intent, fresh_prices, universe
from tests.harness import START, action, live_config, plan, sim_stack

from kraken_bot.config import AppConfig, ExecutionConfig, KrakenConfig, StorageConfig
from kraken_bot.execution.core import lifecycle
from kraken_bot.execution.core.models import ExecutionMode, OrderStatus
from kraken_bot.execution.exceptions import (
    LiveTradingRefusedError,
    MissingCredentialsError,
    PlanValidationError,
    StoreError,
    UnknownOrderError,
)
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.execution.shell.scheduler import DeadManSwitchError
from kraken_bot.market.api import StaticMarketData
from kraken_bot.strategy.plan import ExecutionPlan
from kraken_sim import FaultPlan, ScheduledFault


def test_dead_man_switch_is_armed_refreshed_and_fires_when_refreshes_stop(tmp_path):
    config = live_config(
        dead_man_switch_seconds=60, dead_man_refresh_seconds=20, max_slippage_bps=Decimal(0)
    )
    stack = sim_stack(tmp_path, execution=config)
    service = stack.service()
    arms = stack.private_calls("CancelAllOrdersAfter")
    assert len(arms) == 1
    assert service.seconds_until_due() == pytest.approx(20)  # the next refresh
    stack.clock.advance(5)
    assert service.seconds_until_due() == pytest.approx(15)
    stack.clock.advance(15)
    assert service.seconds_until_due() == 0  # due now: the next tick refreshes
    service.tick()
    assert len(stack.private_calls("CancelAllOrdersAfter")) == 2
    assert service.seconds_until_due() == pytest.approx(20)
    service.execute_plan(plan("dms", action("XBTUSD", "0", "0.5")))
    stack.exchange.set_price("XXBTZUSD", Decimal(70000))  # the market runs away: our bid rests
    for _ in range(6):  # two minutes of service activity: refreshed every 20 s
        stack.clock.advance(20)
        service.tick()
    assert len(stack.private_calls("CancelAllOrdersAfter")) >= 6
    (placed,) = stack.exchange_orders()
    assert placed.status == "open"
    stack.clock.advance(61)  # the process hangs: no tick, no refresh
    stack.exchange.settle()
    (placed,) = stack.exchange_orders()
    assert placed.status == "canceled"
    service.refresh_from_exchange()
    (order,) = service.get_recent_executions(1)[0].orders
    local = service.get_order(order.local_id)
    assert local.status is OrderStatus.CANCELED
    assert local.close_reason == placed.reason  # the dead-man switch's reason is recorded
    stack.close()


def test_closing_stops_refreshing_before_disarming(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(dead_man_switch_seconds=60))
    service = stack.service()
    service.close()
    calls = stack.private_calls("CancelAllOrdersAfter")
    assert len(calls) == 2  # armed, then disarmed; no refresh can follow the disarm
    stack.clock.advance(600)
    service.tick()
    assert len(stack.private_calls("CancelAllOrdersAfter")) == 2


def test_the_dead_man_switch_is_never_armed_in_paper_or_dry_run(tmp_path):
    for mode in (ExecutionMode.PAPER, ExecutionMode.DRY_RUN):
        (tmp_path / mode.value).mkdir()
        stack = sim_stack(
            tmp_path / mode.value,
            execution=ExecutionConfig(mode=mode, dead_man_switch_seconds=60),
        )
        stack.service().execute_plan(plan("p", action("XBTUSD", "0", "0.1")))
        assert stack.private_calls("CancelAllOrdersAfter") == []
        stack.close()


@pytest.mark.parametrize(
    "execution",
    [
        {"mode": ExecutionMode.LIVE},
        {"mode": ExecutionMode.LIVE, "allow_live_trading": True},
        {"mode": ExecutionMode.LIVE, "validate_only": False},
    ],
)
def test_live_without_all_three_opt_ins_refuses_to_start(tmp_path, execution):
    with pytest.raises(LiveTradingRefusedError, match="allow_live_trading"):
        ExecutionConfig(**execution)  # the first guard: such a config cannot be built
    unsafe = ExecutionConfig()
    for name, value in execution.items():
        object.__setattr__(unsafe, name, value)  # behind the constructor's back
    stack = sim_stack(tmp_path, execution=unsafe)
    service = stack.service(initialize=False)
    with pytest.raises(LiveTradingRefusedError, match="allow_live_trading"):
        service.initialize()
    assert stack.private_calls() == []
    assert not stack.db_path.exists()


def test_paper_or_live_without_credentials_fails_before_anything_is_sent(tmp_path):
    stack = sim_stack(tmp_path)
    stack.config = replace(stack.config, kraken=replace(stack.config.kraken, api_secret=None))
    service = stack.service(initialize=False)
    with pytest.raises(MissingCredentialsError, match="KRAKEN_API_KEY"):
        service.initialize()
    assert stack.exchange.journal == ()


@pytest.mark.parametrize("problem", ["not_a_database", "read_only", "locked", "no_directory"])
def test_a_broken_database_fails_initialize_before_any_order_is_sent(tmp_path, problem):
    stack = sim_stack(tmp_path)
    holder = None
    if problem == "not_a_database":
        stack.db_path.write_text("this is a text file, not SQLite\n" * 100)
    elif problem == "read_only":
        stack.db_path.write_bytes(b"")
        stack.config = replace(stack.config, storage=StorageConfig(path=f"{stack.db_path}"))
        stack.db_path.chmod(0o444)
        if stack.db_path.stat().st_mode & 0o200 or _is_root():
            pytest.skip("root ignores file permissions (the store's own tests cover mode=ro)")
    elif problem == "locked":
        stack.service().close()
        holder = sqlite3.connect(stack.db_path)
        holder.execute("BEGIN EXCLUSIVE")
    else:
        stack.config = replace(
            stack.config, storage=StorageConfig(path=str(tmp_path / "missing" / "x.db"))
        )
    journal_before = len(stack.exchange.journal)
    service = stack.service(initialize=False)
    with pytest.raises(StoreError) as caught:
        service.initialize()
    assert str(stack.config.storage.path) in str(caught.value)
    assert [e for e in stack.exchange.journal[journal_before:] if e.endpoint == "AddOrder"] == []
    if holder is not None:
        holder.rollback()
        holder.close()
    stack.close()


def _is_root() -> bool:
    return os.geteuid() == 0


def test_a_restart_rebuilds_open_orders_and_recent_results_from_the_database(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(max_slippage_bps=Decimal(0)))
    first = stack.service()
    result = first.execute_plan(
        plan("keep", action("XBTUSD", "0", "0.5"), action("SOLUSD", "0", "5"))
    )
    stack.exchange.set_price("XXBTZUSD", Decimal(70000))
    stack.exchange.set_price("SOLUSD", Decimal(200))
    first.close()
    second = stack.service()
    open_ids = {o.local_id for o in second.get_open_orders()}
    assert open_ids == {o.local_id for o in result.orders}
    (recent,) = second.get_recent_executions()
    assert recent.plan_id == "keep"
    assert recent.orders == result.orders
    txid = result.orders[0].kraken_order_id
    assert txid is not None
    assert second.get_order(txid).local_id == result.orders[0].local_id
    stack.close()


def test_a_restart_settles_an_order_that_was_written_but_never_sent(tmp_path):
    stack = sim_stack(tmp_path)
    service = stack.service()
    orphan = lifecycle.new_order(
        an_intent(), local_id="6b6b0000-0000-4000-8000-000000000001", now=START
    )
    service.store.save_order(orphan, event="created")  # stopped here, before SendAttempted
    service.close()
    restarted = stack.service()
    settled = restarted.get_order(orphan.local_id)
    assert settled.status is OrderStatus.ERROR
    assert "never sent" in (settled.last_error or "")
    assert stack.private_calls("AddOrder") == []
    stack.close()


def test_a_malformed_plan_is_refused_before_anything_is_sent(tmp_path):
    stack = sim_stack(tmp_path)
    service = stack.service()
    with pytest.raises(PlanValidationError) as caught:
        replace(action(), target_base_size=Decimal("NaN"))  # refused as it is built
    assert "target_base_size" in str(caught.value)
    first, second = action(), action("ETHUSD")
    bad = ExecutionPlan(plan_id="bad", created_at=START, actions=(first, second))
    object.__setattr__(first, "target_base_size", Decimal("NaN"))  # bypassing the checks
    object.__setattr__(second, "pair", "")
    with pytest.raises(PlanValidationError) as caught:
        service.execute_plan(bad)  # execute_plan checks again
    assert "actions[0].target_base_size" in str(caught.value)
    assert "actions[1].pair" in str(caught.value)
    assert stack.private_calls("AddOrder") == []
    with pytest.raises(UnknownOrderError):
        service.cancel_order("no-such-order")
    stack.close()


def test_secrets_never_reach_the_database_or_raw_request(tmp_path):
    stack = sim_stack(tmp_path, faults="light", seed=5)
    service = stack.service()
    for n in range(3):
        service.execute_plan(plan(f"s{n}", action("XBTUSD", "0", "0.05"), action("ETHUSD")))
    service.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("execution.db"))
    assert stack.secret.encode() not in raw
    assert stack.key.encode() not in raw
    with sqlite3.connect(stack.db_path) as db:
        requests = [r for (r,) in db.execute("SELECT raw_request FROM execution_orders")]
    assert requests
    assert all("nonce" not in r and "API-Sign" not in r for r in requests)
    stack.close()


def test_dry_run_works_fully_offline_with_static_market_data(tmp_path):
    config = AppConfig(
        execution=ExecutionConfig(mode=ExecutionMode.DRY_RUN),
        kraken=KrakenConfig(base_url="http://nowhere.invalid"),
        storage=StorageConfig(path=str(tmp_path / "dry.db")),
    )
    quotes = fresh_prices()
    clock_now = next(iter(quotes.values())).at
    service = ExecutionService(
        config=config,
        market_data=StaticMarketData(universe(), quotes),
        clock=_FixedClock(clock_now),
    )
    with service:
        result = service.execute_plan(plan("offline", action("XBTUSD", "0", "0.1")))
    assert result.success
    assert [o.status for o in result.orders] == [OrderStatus.SIMULATED]


class _FixedClock:
    def __init__(self, now):
        self._now = now

    def now(self):
        return self._now

    def monotonic(self):
        return 0.0

    def sleep(self, seconds):
        self._now += timedelta(seconds=seconds)


def test_arming_the_dead_man_switch_survives_a_transient_refusal(tmp_path):
    busy_once = FaultPlan(
        schedule=(ScheduledFault(endpoint="CancelAllOrdersAfter", calls=(1,), kind="busy"),)
    )
    stack = sim_stack(tmp_path, faults=busy_once, execution=live_config(dead_man_switch_seconds=60))
    service = stack.service()
    assert service.dead_man_switch is not None
    assert service.dead_man_switch.armed_until is not None
    calls = stack.private_calls("CancelAllOrdersAfter")
    assert [c.fault for c in calls] == ["busy", None]
    stack.close()


def test_a_permanently_refused_dead_man_switch_stops_a_live_start(tmp_path):
    locked = FaultPlan(
        schedule=(
            ScheduledFault(endpoint="CancelAllOrdersAfter", calls=tuple(range(1, 10)), kind="busy"),
        )
    )
    stack = sim_stack(tmp_path, faults=locked, execution=live_config(dead_man_switch_seconds=60))
    service = stack.service(initialize=False)
    with pytest.raises(DeadManSwitchError, match="could not arm"):
        service.initialize()
    with pytest.raises(DeadManSwitchError):  # still refuses: it never trades unprotected
        service.execute_plan(plan("p", action()))
    assert stack.private_calls("AddOrder") == []
    stack.close()


def test_recent_executions_show_each_orders_present_state_even_after_a_restart(tmp_path):
    """The contract's "final state of each order": a result read later shows what became of
    its orders; the result as recorded when the plan finished stays available for audit."""
    stack = sim_stack(tmp_path, execution=live_config(max_slippage_bps=Decimal(0)))
    service = stack.service()
    result = service.execute_plan(plan("present", action("XBTUSD", "0", "0.1")))
    (order,) = result.orders
    assert order.status is OrderStatus.OPEN
    service.cancel_order(order.local_id)
    (recent,) = service.get_recent_executions(limit=1)
    assert [o.status for o in recent.orders] == [OrderStatus.CANCELED]
    restarted = stack.service()  # a new process on the same database
    (recent,) = restarted.get_recent_executions(limit=1)
    assert [o.status for o in recent.orders] == [OrderStatus.CANCELED]
    assert (
        restarted.execute_plan(plan("present", action("XBTUSD", "0", "0.1"))).orders[0].status
        is OrderStatus.CANCELED
    )
    recorded = restarted.get_execution_as_recorded("present")
    assert recorded is not None
    assert [o.status for o in recorded.orders] == [OrderStatus.OPEN]
    stack.close()
