"""The always-on service, in process on virtual time: order events, supervision, health.

Each test drives the real service and the real client against the fake exchange;
`ExecutionService.supervise` is called the way `krakked run`'s loop calls it.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from decimal import Decimal

from tests.harness import action, live_config, plan, sim_stack

from kraken_bot.execution import ExecutionService
from kraken_bot.execution.core.events import (
    HealthEvent,
    HealthKind,
    OrderUpdate,
    OrderUpdateKind,
    ServiceEvent,
)
from kraken_bot.execution.core.models import OrderStatus
from kraken_sim.faults import FaultPlan
from kraken_sim.orders import REASON_DEADMAN


def drain(stream: object) -> list[ServiceEvent]:
    """Every event already queued on a stream (waits briefly for the last ones)."""
    events: list[ServiceEvent] = []
    while (event := stream.get(timeout=0.3)) is not None:  # type: ignore[attr-defined]
        events.append(event)
    return events


def run_for(stack: object, service: ExecutionService, seconds: int, step: int = 5) -> None:
    """Virtual time passes; the service supervises every ``step`` seconds."""
    for _ in range(seconds // step):
        stack.clock.sleep(step)  # type: ignore[attr-defined]
        service.supervise()


def test_fills_reach_subscribers_as_events_in_order_with_their_deltas(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(max_slippage_bps=0))
    service = stack.service()
    stream = service.events()
    try:
        result = service.execute_plan(
            plan("p1", action("XBTUSD", "0", "0.1"), action("ETHUSD", "0", "1"))
        )
        run_for(stack, service, 300)
        events = drain(stream)
    finally:
        stack.close()
    updates = [e for e in events if isinstance(e, OrderUpdate)]
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    by_order: dict[str, list[OrderUpdate]] = defaultdict(list)
    for update in updates:
        by_order[update.order.local_id].append(update)
    assert set(by_order) == {o.local_id for o in result.orders}
    for trail in by_order.values():
        kinds = [u.kind for u in trail]
        assert kinds[0] is OrderUpdateKind.ACCEPTED
        assert kinds[-1] is OrderUpdateKind.FILLED
        filled = sum((u.fill_delta for u in trail), Decimal(0))
        assert filled == trail[-1].order.requested_base_size  # deltas add up to the fill
        assert trail[-1].order.status is OrderStatus.FILLED  # the order as it now is


def test_a_slow_or_raising_subscriber_never_blocks_execution(tmp_path):
    stack = sim_stack(tmp_path)
    service = stack.service()
    release = threading.Event()
    slow_seen: list[int] = []

    def slow(event: ServiceEvent) -> None:
        release.wait(30)  # blocked until the plan is done
        slow_seen.append(event.seq)

    def broken(event: ServiceEvent) -> None:
        raise RuntimeError(f"strategy bug on {event.seq}")

    slow_sub = service.subscribe(slow)
    broken_sub = service.subscribe(broken)
    try:
        result = service.execute_plan(
            plan("p1", action("XBTUSD", "0", "0.1"), action("ETHUSD", "0", "1"))
        )
        assert result.success  # finished while the slow subscriber was still blocked
        assert slow_seen == []
        release.set()
        assert slow_sub.wait_idle()
        assert broken_sub.wait_idle()
        assert len(slow_seen) >= 2
        assert slow_seen == sorted(slow_seen)
        assert broken_sub.failures == len(slow_seen)  # raised every time, kept receiving
    finally:
        release.set()
        stack.close()


def test_reconciliation_runs_on_its_schedule_while_the_service_is_open(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(reconcile_every_seconds=60))
    service = stack.service()
    try:
        at_start = len(stack.private_calls("OpenOrders"))
        run_for(stack, service, 55)
        assert len(stack.private_calls("OpenOrders")) == at_start  # not due yet
        run_for(stack, service, 600)
        passes = len(stack.private_calls("OpenOrders")) - at_start
        assert 9 <= passes <= 11  # one a minute
        supervisor = service.supervisor
        assert supervisor is not None
        assert supervisor.last_reconcile is not None
        assert supervisor.last_reconcile.ok
    finally:
        stack.close()


def test_no_scheduled_reconciliation_when_switched_off(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(reconcile_every_seconds=None))
    service = stack.service()
    try:
        at_start = len(stack.private_calls("OpenOrders"))
        run_for(stack, service, 600)
        assert len(stack.private_calls("OpenOrders")) == at_start
    finally:
        stack.close()


def test_an_order_unfilled_past_the_timeout_is_canceled(tmp_path):
    config = live_config(max_slippage_bps=0, unfilled_timeout_seconds=20)
    stack = sim_stack(tmp_path, execution=config)
    service = stack.service()
    stream = service.events()
    try:
        result = service.execute_plan(plan("p1", action("XBTUSD", "0", "0.1")))
        (order,) = result.orders
        assert order.status is OrderStatus.OPEN
        run_for(stack, service, 25)
        after = service.get_order(order.local_id)
        assert after.status is OrderStatus.CANCELED
        (truth,) = [o for o in stack.exchange_orders() if o.txid == order.kraken_order_id]
        assert truth.status == "canceled"
        assert len(stack.private_calls("AddOrder")) == 1  # canceled, not sent again
        kinds = [e.kind for e in drain(stream) if isinstance(e, OrderUpdate)]
        assert OrderUpdateKind.CANCELED in kinds
    finally:
        stack.close()


def test_an_order_unfilled_past_the_timeout_is_repriced_once_for_what_remains(tmp_path):
    config = live_config(max_slippage_bps=0, unfilled_timeout_seconds=20, unfilled_action="reprice")
    stack = sim_stack(tmp_path, execution=config)
    service = stack.service()
    try:
        (order,) = service.execute_plan(plan("p1", action("XBTUSD", "0", "0.1"))).orders
        run_for(stack, service, 25)
        first = service.get_order(order.local_id)
        assert first.status is OrderStatus.CANCELED
        repriced = service.get_execution_as_recorded(f"p1:reprice:{order.local_id}")
        assert repriced is not None
        (again,) = repriced.orders
        remaining = first.requested_base_size - first.cumulative_base_filled
        assert again.requested_base_size == remaining
        assert again.side is first.side
        assert again.strategy_id == first.strategy_id
        run_for(stack, service, 25)  # the same order is not repriced twice
        assert len(stack.private_calls("AddOrder")) == 2
    finally:
        stack.close()


def test_the_dead_man_switch_refreshes_every_20_seconds_by_default(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(dead_man_switch_seconds=60))
    service = stack.service()
    try:
        run_for(stack, service, 120)
        calls = stack.private_calls("CancelAllOrdersAfter")
        assert 6 <= len(calls) <= 8  # armed once, then every 20 s
    finally:
        stack.close()


def test_a_dead_man_switch_that_cannot_be_refreshed_fires_and_is_reported(tmp_path):
    config = live_config(dead_man_switch_seconds=60, max_slippage_bps=0)
    stack = sim_stack(tmp_path, execution=config)
    service = stack.service()
    stream = service.events()
    try:
        # This buy rests for minutes in the default scenario: the switch catches it.
        (order,) = service.execute_plan(plan("p1", action("ETHXBT", "0", "1"))).orders
        assert order.status is OrderStatus.OPEN
        stack.exchange.set_faults(
            FaultPlan.from_mapping(
                {
                    "rules": [
                        {
                            "kind": "service_unavailable",
                            "endpoints": ["CancelAllOrdersAfter"],
                            "probability": 1.0,
                        }
                    ]
                }
            )
        )
        run_for(stack, service, 90)
        health = [e for e in drain(stream) if isinstance(e, HealthEvent)]
        kinds = [e.kind for e in health]
        assert HealthKind.DEAD_MAN_REFRESH_FAILED in kinds
        assert HealthKind.DEAD_MAN_EXPIRED in kinds
        assert kinds.index(HealthKind.DEAD_MAN_REFRESH_FAILED) < kinds.index(
            HealthKind.DEAD_MAN_EXPIRED
        )
        (truth,) = [o for o in stack.exchange_orders() if o.txid == order.kraken_order_id]
        assert (truth.status, truth.reason) == ("canceled", REASON_DEADMAN)
        service.refresh_from_exchange()
        assert service.get_order(order.local_id).status is OrderStatus.CANCELED
    finally:
        stack.close()


def test_closing_the_service_ends_event_streams_with_a_stopped_event(tmp_path):
    stack = sim_stack(tmp_path)
    service = stack.service()
    stream = service.events()
    service.close()
    events = list(stream)  # ends: the service closed
    assert [e.kind for e in events if isinstance(e, HealthEvent)] == [HealthKind.STOPPED]


def test_after_a_failed_start_scheduled_passes_adopt_orders_that_closed_hours_ago(tmp_path):
    # The database is lost, and the new process's start pass cannot list ClosedOrders.
    # Its scheduled passes read back only minutes once a pass has completed; before that
    # they must read the whole day, or an order of ours that closed two hours ago stays
    # unknown for good.
    config = live_config(reconcile_every_seconds=60, default_order_type="market")
    stack = sim_stack(tmp_path, execution=config)
    first = stack.service()
    first.execute_plan(plan("p1", action(target="0.05")))
    first.close()
    ours = {o.txid for o in stack.exchange_orders()}
    assert ours
    assert all(not o.is_live for o in stack.exchange_orders())
    stack.clock.sleep(2 * 3600)
    for path in stack.db_path.parent.glob(stack.db_path.name + "*"):
        path.unlink()  # the database and its WAL
    failing = [{"kind": "busy", "endpoint": "ClosedOrders", "call": list(range(1, 9))}]
    stack.exchange.set_faults(FaultPlan.from_mapping({"schedule": failing}))
    service = stack.service()
    try:
        assert service.last_reconcile is not None
        assert not service.last_reconcile.ok  # the start could not list
        run_for(stack, service, 600)
        known = {o.kraken_order_id for o in service.store.recent_orders(1000)}
        assert ours <= known
    finally:
        stack.close()


def test_a_subscriber_may_close_the_service_from_its_callback(tmp_path):
    """A strategy shuts the bot down when an event tells it to (its callback runs in the
    subscription's own thread): the service closes, every other stream ends, and the
    callback's own subscription ends without an error."""
    stack = sim_stack(tmp_path)
    service = stack.service()
    closed = threading.Event()

    def shut_down_on_first_fill(event: ServiceEvent) -> None:
        if isinstance(event, OrderUpdate) and not closed.is_set():
            service.close()
            closed.set()

    subscription = service.subscribe(shut_down_on_first_fill)  # closed first at shutdown
    other = service.events()
    drained: list[ServiceEvent] = []
    reader = threading.Thread(target=lambda: drained.extend(other), daemon=True)
    reader.start()
    result = service.execute_plan(plan("p1", action("XBTUSD", "0", "0.1")))
    assert result.success  # the close waited for the plan being sent
    assert closed.wait(10)
    reader.join(10)
    assert not reader.is_alive()  # the other stream ended with the service
    assert service.closed
    assert [e.kind for e in drained if isinstance(e, HealthEvent)][-1] is HealthKind.STOPPED
    assert subscription.wait_idle()
    assert subscription.failures == 0
    stack.close()
