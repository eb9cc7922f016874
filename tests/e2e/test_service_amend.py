"""ExecutionService.amend_order end to end: real client, fake exchange, SQLite file."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.harness import action, live_config, plan, sim_stack

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.models import OrderStatus
from kraken_bot.execution.exceptions import AmendRefusedError
from kraken_bot.execution.shell.store import SQLiteExecutionStore
from kraken_bot.kraken.errors import OrderRejectedError
from kraken_sim import FaultPlan, ScheduledFault


def events_of(stack, local_id):
    with SQLiteExecutionStore(stack.db_path, read_only=True) as store:
        return store.events_for(local_id)


def resting_buy(stack, plan_id="amend"):
    """A buy that rests: the market runs away from it right after it is placed."""
    service = stack.service()
    result = service.execute_plan(plan(plan_id, action("XBTUSD", "0", "0.5")))
    (order,) = result.orders
    stack.exchange.set_price("XXBTZUSD", Decimal(70000))
    return service, service.get_order(order.local_id)


def test_an_amend_moves_the_order_in_place_and_the_record_follows(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(max_slippage_bps=Decimal(0)))
    service, order = resting_buy(stack)
    assert order.status is OrderStatus.OPEN
    new_price = order.requested_price + Decimal(10)
    amended = service.amend_order(order.local_id, price=new_price, base_size=Decimal("0.4"))
    assert (amended.requested_price, amended.requested_base_size) == (new_price, Decimal("0.4"))
    assert amended.kraken_order_id == order.kraken_order_id
    (on_kraken,) = stack.exchange_orders()
    assert (on_kraken.price, on_kraken.vol) == (new_price, Decimal("0.4"))
    events = [e.event for e in events_of(stack, order.local_id)]
    assert events.index("amend_requested") < events.index("amended")  # written ahead
    assert len(stack.private_calls("AmendOrder")) == 1
    stack.close()


def test_a_lost_amend_answer_is_looked_up_not_repeated(tmp_path):
    lost = FaultPlan(
        schedule=(ScheduledFault(endpoint="AmendOrder", calls=(1,), kind="lost_response"),)
    )
    stack = sim_stack(tmp_path, faults=lost, execution=live_config(max_slippage_bps=Decimal(0)))
    service, order = resting_buy(stack)
    new_price = order.requested_price + Decimal(10)
    amended = service.amend_order(order.local_id, price=new_price)
    assert amended.requested_price == new_price
    assert len(stack.private_calls("AmendOrder")) == 1  # it had landed: not sent again
    stack.close()


def test_an_amend_lost_before_it_reached_kraken_is_sent_again_after_the_lookup(tmp_path):
    lost = FaultPlan(
        schedule=(
            ScheduledFault(endpoint="AmendOrder", calls=(1,), kind="timeout", phase="before"),
        )
    )
    stack = sim_stack(tmp_path, faults=lost, execution=live_config(max_slippage_bps=Decimal(0)))
    service, order = resting_buy(stack)
    new_price = order.requested_price + Decimal(10)
    amended = service.amend_order(order.local_id, price=new_price)
    assert amended.requested_price == new_price
    assert len(stack.private_calls("AmendOrder")) == 2
    assert stack.private_calls("QueryOrders")  # looked up between the two
    stack.close()


def test_a_process_that_died_after_sending_an_amend_is_caught_up_by_reconciliation(tmp_path):
    """Another process (or one that died before writing the answer) amended the order:
    the next reconciliation takes Kraken's price and smaller size."""
    stack = sim_stack(tmp_path, execution=live_config(max_slippage_bps=Decimal(0)))
    service, order = resting_buy(stack)
    stack.exchange.amend(order.kraken_order_id, price=order.requested_price + 1, vol="0.3")
    service.refresh_from_exchange()
    caught_up = service.get_order(order.local_id)
    assert caught_up.requested_price == order.requested_price + 1
    assert caught_up.requested_base_size == Decimal("0.3")
    stack.close()


def test_amends_that_cannot_be_sent_are_refused_before_anything_is_sent(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(max_slippage_bps=Decimal(0)))
    service, order = resting_buy(stack)
    for kwargs, reason in (
        ({"price": order.requested_price + Decimal("0.05")}, "not on the tick"),
        ({"base_size": Decimal("0.6")}, "only shrinks"),
        ({"base_size": Decimal(0)}, "not above what has filled"),
        ({}, "needs a new price or size"),
        ({"price": Decimal("NaN")}, "not a positive number"),
    ):
        with pytest.raises(AmendRefusedError, match=reason):
            service.amend_order(order.local_id, **kwargs)
    assert stack.private_calls("AmendOrder") == []
    stack.close()


def test_kraken_refusing_a_post_only_amend_leaves_the_order_as_it_was(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(max_slippage_bps=Decimal(0)))
    service, order = resting_buy(stack)
    with pytest.raises(OrderRejectedError, match="Post only"):
        service.amend_order(order.local_id, price=Decimal("80000.0"), post_only=True)
    after = service.get_order(order.local_id)
    assert (after.requested_price, after.status) == (order.requested_price, OrderStatus.OPEN)
    assert "amend_rejected" in [e.event for e in events_of(stack, order.local_id)]
    stack.close()


def test_an_open_order_kraken_calls_invalid_is_a_refused_amend_not_a_closed_order(tmp_path):
    """``EOrder:Invalid order`` is also Kraken's word for a closed order: the order is read
    back, and as it is still working (without the new price), the refusal is raised."""
    refused = FaultPlan(
        schedule=(ScheduledFault(endpoint="AmendOrder", calls=(1,), kind="refused"),)
    )
    stack = sim_stack(tmp_path, faults=refused, execution=live_config(max_slippage_bps=Decimal(0)))
    service, order = resting_buy(stack)
    with pytest.raises(OrderRejectedError, match="Invalid order"):
        service.amend_order(order.local_id, price=order.requested_price + Decimal(10))
    after = service.get_order(order.local_id)
    assert (after.requested_price, after.status) == (order.requested_price, OrderStatus.OPEN)
    assert "amend_rejected" in [e.event for e in events_of(stack, order.local_id)]
    assert len(stack.private_calls("AmendOrder")) == 1
    stack.close()


def test_paper_mode_has_nothing_to_amend(tmp_path):
    stack = sim_stack(tmp_path, execution=ExecutionConfig(mode="paper"))
    service = stack.service()
    (order,) = service.execute_plan(plan("paper", action("XBTUSD", "0", "0.5"))).orders
    with pytest.raises(AmendRefusedError, match="live mode"):
        service.amend_order(order.local_id, price=Decimal(1))
    stack.close()
