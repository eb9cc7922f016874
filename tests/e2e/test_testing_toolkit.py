"""`kraken_bot.testing`, used the way a strategy author would use it in their own tests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from kraken_bot.execution import (
    ActionType,
    ExecutionPlan,
    OrderStatus,
    RiskAdjustedAction,
)
from kraken_bot.execution.core.events import OrderUpdate, OrderUpdateKind
from kraken_bot.simulation.invariants import ViolationKind
from kraken_bot.testing import FakeKraken


def buy(plan_id: str, at: datetime, target: str = "0.1") -> ExecutionPlan:
    return ExecutionPlan(
        plan_id=plan_id,
        created_at=at,
        actions=(
            RiskAdjustedAction(
                pair="XBTUSD",
                strategy_id="mine",
                action_type=ActionType.INCREASE,
                current_base_size=Decimal(0),
                target_base_size=Decimal(target),
            ),
        ),
    )


def test_a_plan_fills_over_virtual_time_and_the_records_agree_with_the_exchange(tmp_path):
    with FakeKraken(tmp_path) as kraken:
        service = kraken.service(max_slippage_bps=Decimal(0), reconcile_every_seconds=30)
        stream = service.events()
        result = service.execute_plan(buy("p1", kraken.clock.now()))
        assert result.success
        kraken.advance(600)
        fills = []
        while (event := stream.get(timeout=0)) is not None:
            if isinstance(event, OrderUpdate) and event.kind is OrderUpdateKind.FILLED:
                fills.append(event)
        assert [f.order.local_id for f in fills] == [result.orders[0].local_id]
        assert service.get_order(result.orders[0].local_id).status is OrderStatus.FILLED
        assert kraken.violations() == []
        assert result.completed_at is not None
        assert (kraken.clock.now() - result.completed_at).total_seconds() >= 600


def test_the_checker_names_an_order_the_records_lost(tmp_path):
    """The checker can fail: a database that lost an order (a restore from an old backup)
    leaves an exchange order of ours that no local order owns."""
    with FakeKraken(tmp_path) as kraken:
        service = kraken.service(max_slippage_bps=Decimal(0))
        (order,) = service.execute_plan(buy("p1", kraken.clock.now())).orders
        local = service.store.recent_orders(10)
        (violation,) = [
            v for v in _check_without(kraken, local, order.local_id) if v.kind is ViolationKind.LOST
        ]
        assert order.kraken_order_id in violation.txids


def _check_without(kraken, local, local_id):
    from kraken_bot.simulation.invariants import check_invariants  # noqa: PLC0415

    kept = [o for o in local if o.local_id != local_id]
    return check_invariants(
        kept, kraken.exchange.orders(kraken.key), pairs=kraken.exchange.venue.meta
    )
