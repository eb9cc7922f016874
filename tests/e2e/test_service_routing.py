"""maker_first routing end to end: the service posts at the touch, chases it with
AmendOrder, and crosses at the cap when urgent (real client, fake exchange, SQLite)."""

from __future__ import annotations

import threading
from decimal import Decimal

from tests.harness import action, live_config, plan, sim_stack

from kraken_bot.execution.core.models import OrderStatus, TimeInForce
from kraken_sim import FaultPlan


def maker_first(**overrides):
    settings = {
        "routing": "maker_first",
        "max_slippage_bps": Decimal(50),
        "chase_ticks": 2,
        "chase_seconds": 20,
        "urgency_seconds": 120,
    }
    return live_config(**{**settings, **overrides})


def test_a_buy_rests_post_only_at_the_bid_and_follows_it_up(tmp_path):
    stack = sim_stack(tmp_path, execution=maker_first())
    stack.exchange.set_price("XXBTZUSD", Decimal(60000))
    service = stack.service()
    touch = stack.exchange.touch("XXBTZUSD")
    (order,) = service.execute_plan(plan("mf", action("XBTUSD", "0", "0.5"))).orders
    assert order.post_only
    assert order.time_in_force is TimeInForce.GTC
    assert order.requested_price == touch.bid  # at the touch, not at the mid + 50 bps
    assert order.status is OrderStatus.OPEN
    stack.exchange.set_price("XXBTZUSD", Decimal(60050))  # the market moves up
    for _ in range(3):
        stack.clock.advance(10)
        service.tick()
    moved = service.get_order(order.local_id)
    new_bid = stack.exchange.touch("XXBTZUSD").bid
    assert moved.requested_price == new_bid
    assert moved.kraken_order_id == order.kraken_order_id  # amended in place
    assert stack.private_calls("AmendOrder")
    (on_kraken,) = [o for o in stack.exchange_orders() if o.txid == order.kraken_order_id]
    assert on_kraken.price == new_bid
    assert service.routing_stats is not None
    assert service.routing_stats.amends >= 1
    # The touch it rests at and follows is the top of the book (Depth), not Ticker's summary.
    endpoints = [e.endpoint for e in stack.exchange.journal if e.api_key is None]
    assert endpoints.count("Depth") >= 4  # the plan's read, then one per look
    assert "Ticker" not in endpoints
    stack.close()


def test_past_urgency_the_rest_crosses_at_the_cap_and_never_beyond(tmp_path):
    stack = sim_stack(tmp_path, execution=maker_first(chase_ticks=10_000, chase_seconds=3600))
    stack.exchange.set_price("XXBTZUSD", Decimal(60000))
    service = stack.service()
    (order,) = service.execute_plan(plan("urgent", action("XBTUSD", "0", "0.5"))).orders
    stack.exchange.set_price("XXBTZUSD", Decimal(60100))  # away, but inside the 50 bps cap
    for _ in range(14):
        stack.clock.advance(10)
        service.tick()
    first = service.get_order(order.local_id)
    assert first.status is OrderStatus.CANCELED
    assert stack.private_calls("AmendOrder") == []  # no chasing asked for
    crosses = [o for o in stack.exchange_orders() if o.txid != order.kraken_order_id]
    assert len(crosses) == 1
    (cross,) = crosses
    assert cross.timeinforce == "IOC"
    assert cross.price is not None
    assert cross.price <= Decimal(60300)  # the cap: the arrival mid + 50 bps
    assert cross.vol_exec == first.requested_base_size - first.cumulative_base_filled
    assert service.routing_stats is not None
    assert service.routing_stats.crosses == 1
    again = service.execute_plan(plan("urgent", action("XBTUSD", "0", "0.5")))
    assert [o.local_id for o in again.orders] == [order.local_id]  # the plan is not resent
    stack.close()


def test_past_the_cap_nothing_crosses_the_order_waits_at_the_cap_and_crosses_when_it_can(
    tmp_path,
):
    stack = sim_stack(tmp_path, execution=maker_first(chase_ticks=10_000, chase_seconds=3600))
    stack.exchange.set_price("XXBTZUSD", Decimal(60000))
    service = stack.service()
    (order,) = service.execute_plan(plan("runaway", action("XBTUSD", "0", "0.5"))).orders
    stack.exchange.set_price("XXBTZUSD", Decimal(61000))  # 166 bps away: past the cap
    for _ in range(14):
        stack.clock.advance(10)
        service.tick()
    waiting = service.get_order(order.local_id)
    assert waiting.status is OrderStatus.OPEN  # an IOC at the cap would take nothing
    assert waiting.requested_price == Decimal("60300.0")  # amended to the cap, no further
    assert [o.txid for o in stack.exchange_orders()] == [order.kraken_order_id]
    (truth,) = stack.exchange_orders()
    assert truth.price == Decimal("60300.0")
    # The market comes back within the cap: what is left crosses there, as an IOC.
    stack.exchange.set_price("XXBTZUSD", Decimal(60200))
    for _ in range(2):
        stack.clock.advance(10)
        service.tick()
    assert service.get_order(order.local_id).status is not OrderStatus.OPEN
    crosses = [o for o in stack.exchange_orders() if o.txid != order.kraken_order_id]
    assert len(crosses) <= 1
    total = sum((o.vol_exec for o in stack.exchange_orders()), Decimal(0))
    assert total == Decimal("0.5")  # never more than asked, all of it within the cap
    assert all(o.price is None or o.price <= Decimal("60300.0") for o in stack.exchange_orders())
    stack.close()


def test_the_contract_routing_never_amends(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(max_slippage_bps=Decimal(50)))
    stack.exchange.set_price("XXBTZUSD", Decimal(60000))
    service = stack.service()
    (order,) = service.execute_plan(plan("c", action("XBTUSD", "0", "0.5"))).orders
    assert order.requested_price == Decimal("60300.0")  # mid + 50 bps: it crosses
    assert not order.post_only
    assert service.routing_stats is None
    stack.close()


def test_a_cross_falling_due_while_a_plan_runs_waits_for_it_instead_of_deadlocking(tmp_path):
    """The plan's own ticks reach the router while the plan holds the service: a cross
    (a plan of its own) must wait for the next tick, not block on the running plan."""
    stack = sim_stack(tmp_path, execution=maker_first(chase_ticks=10_000, chase_seconds=3600))
    stack.exchange.set_price("XXBTZUSD", Decimal(60000))
    service = stack.service()
    (order,) = service.execute_plan(plan("first", action("XBTUSD", "0", "0.5"))).orders
    stack.exchange.set_price("XXBTZUSD", Decimal(60100))
    stack.clock.advance(130)  # past urgency, and no tick yet
    done: list[object] = []
    worker = threading.Thread(
        target=lambda: done.append(
            service.execute_plan(plan("second", action("ETHUSD", "0", "1")))
        ),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=60)
    assert done, "execute_plan deadlocked with a cross due"
    service.tick()
    assert service.get_order(order.local_id).status is OrderStatus.CANCELED
    assert service.routing_stats is not None
    assert service.routing_stats.crosses == 1
    stack.close()


def test_an_amend_kraken_refuses_falls_back_to_cancel_and_replace_under_the_first_cap(tmp_path):
    refuse_first_amend = FaultPlan.from_mapping(
        {"schedule": [{"kind": "refused", "endpoint": "AmendOrder", "call": 1}]}
    )
    stack = sim_stack(tmp_path, execution=maker_first(), faults=refuse_first_amend)
    stack.exchange.set_price("XXBTZUSD", Decimal(60000))  # cap: 60300.0
    service = stack.service()
    (order,) = service.execute_plan(plan("mf", action("XBTUSD", "0", "0.5"))).orders
    stack.exchange.set_price("XXBTZUSD", Decimal(60100))  # the touch moves up: amend...
    for _ in range(3):
        stack.clock.advance(10)
        service.tick()
    first = service.get_order(order.local_id)
    assert first.status is OrderStatus.CANCELED  # ...refused: canceled instead
    replaced = service.get_execution_as_recorded(f"mf:replace:{order.local_id}")
    assert replaced is not None
    (second,) = replaced.orders
    bid = stack.exchange.touch("XXBTZUSD").bid
    assert second.post_only
    assert second.requested_price == bid
    assert second.requested_base_size == Decimal("0.5") - first.cumulative_base_filled
    assert service.routing_stats is not None
    assert service.routing_stats.replacements == 1
    # The market runs on, past the first order's cap: the replacement follows it only as
    # far as that cap (its own arrival mid would allow 60400.5).
    stack.exchange.set_price("XXBTZUSD", Decimal(60500))
    for _ in range(3):
        stack.clock.advance(10)
        service.tick()
    assert service.get_order(second.local_id).requested_price == Decimal("60300.0")
    assert len(stack.private_calls("AddOrder")) == 2  # the first order and its replacement
    assert all(o.price <= Decimal("60300.0") for o in stack.exchange_orders())
    stack.close()
