"""Fills that land while a cancel is on its way are never lost (real client, fake exchange,
SQLite)."""

from __future__ import annotations

from decimal import Decimal

from tests.harness import action, live_config, plan, sim_stack

from kraken_bot.execution.core.models import OrderStatus
from kraken_sim import FaultPlan, ScheduledFault


def test_a_fill_landing_before_a_cancel_whose_read_back_fails_is_found_by_reconciliation(
    tmp_path,
):
    """Found by the chaos campaign: a resting order fills in part while its cancel is on
    its way; Kraken confirms the cancel, the QueryOrders read-back after it fails, so the
    order is canceled locally with nothing filled. It is finished, so it is no longer
    queried: the next pass's ClosedOrders listing must bring the fill in."""
    refused_read = FaultPlan(
        schedule=(
            ScheduledFault(
                endpoint="QueryOrders",
                calls=(2,),
                kind="refused",
                error="EGeneral:Invalid arguments",
            ),
        )
    )
    stack = sim_stack(
        tmp_path, faults=refused_read, execution=live_config(max_slippage_bps=Decimal(0))
    )
    service = stack.service()
    (order,) = service.execute_plan(plan("late", action("XBTUSD", "0", "0.5"))).orders
    assert service.get_order(order.local_id).status is OrderStatus.OPEN  # QueryOrders no. 1
    stack.clock.advance(60)  # the fake fills it a little at the bid, unseen
    canceled = service.cancel_order(order.local_id)  # read-back: QueryOrders no. 2, refused
    (truth,) = stack.exchange_orders()
    assert truth.status == "canceled"
    assert truth.vol_exec > 0
    assert canceled.status is OrderStatus.CANCELED
    assert canceled.cumulative_base_filled == 0  # the fill is not known yet
    report = service.refresh_from_exchange()
    assert report.ok, report.errors
    repaired = service.get_order(order.local_id)
    assert repaired.cumulative_base_filled == truth.vol_exec
    assert repaired.fee == truth.fee
    assert repaired.status is OrderStatus.CANCELED
    stack.close()
