"""First light: the service executes a plan against the fake exchange through the real client."""

from __future__ import annotations

from decimal import Decimal

from tests.harness import action, plan, sim_stack

from kraken_bot.execution.core.models import OrderStatus, Side


def test_a_plan_that_increases_a_position_places_one_buy(tmp_path):
    stack = sim_stack(tmp_path)
    service = stack.service()
    try:
        result = service.execute_plan(plan("p1", action("XBTUSD", "0", "0.1")))
        assert result.success, result.errors
        (order,) = result.orders
        assert order.side is Side.BUY
        assert order.requested_base_size == Decimal("0.1")
        assert order.kraken_order_id is not None
        assert order.status in {OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED}
        assert len(stack.private_calls("AddOrder")) == 1
    finally:
        stack.close()
