"""The supervisor (shell) against a fake of the service operations it calls.

The service's own threads change orders while a tick runs; what the tick decides and
what it acts on must come from one reading of the live orders.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.builders import NOW, an_order_in

from kraken_bot._enums import UnfilledAction
from kraken_bot.execution.core.models import LocalOrder, OrderStatus
from kraken_bot.execution.core.reports import ReconcileReport
from kraken_bot.execution.shell._supervisor import SupervisionSettings, Supervisor
from kraken_sim.clock import VirtualClock


class _OrderFilledMeanwhile:
    """Service operations whose live orders lose one order after the first reading:
    it filled (on another thread) while the tick was deciding."""

    def __init__(self, order: LocalOrder) -> None:
        self.readings = [[order]]
        self.repriced: list[tuple[str, Decimal]] = []

    def reconcile(self) -> ReconcileReport:
        return ReconcileReport()

    def cached_live_orders(self) -> list[LocalOrder]:
        return self.readings.pop(0) if self.readings else []

    def cancel(self, local_id: str) -> None:
        raise AssertionError(f"not expected: cancel {local_id}")

    def reprice(self, order: LocalOrder, remaining: Decimal) -> None:
        self.repriced.append((order.local_id, remaining))

    def rest_counter(self) -> tuple[float, float]:
        return 0.0, 0.0


def test_an_unfilled_order_that_fills_during_the_tick_is_acted_on_as_it_was_read():
    order = an_order_in(OrderStatus.OPEN, first_sent_at=NOW)
    ops = _OrderFilledMeanwhile(order)
    clock = VirtualClock(NOW + timedelta(minutes=10))
    supervisor = Supervisor(
        ops,
        clock=clock,
        settings=SupervisionSettings(
            reconcile_every=None,
            unfilled_timeout=timedelta(minutes=5),
            unfilled_action=UnfilledAction.REPRICE,
        ),
        publish=lambda _events: None,
    )
    supervisor.tick()  # a second reading without the order once raised KeyError here
    assert ops.repriced == [(order.local_id, order.requested_base_size)]


class _Readings:
    """Service operations that return the given live readings, one per tick."""

    def __init__(self, *readings: list[LocalOrder]) -> None:
        self.readings = list(readings)
        self.canceled: list[str] = []

    def reconcile(self) -> ReconcileReport:
        return ReconcileReport()

    def cached_live_orders(self) -> list[LocalOrder]:
        return self.readings.pop(0)

    def cancel(self, local_id: str) -> None:
        self.canceled.append(local_id)

    def reprice(self, order: LocalOrder, remaining: Decimal) -> None:
        raise AssertionError(f"not expected: reprice {order.local_id}")

    def rest_counter(self) -> tuple[float, float]:
        return 0.0, 0.0


def test_an_unfilled_order_is_acted_on_once_and_forgotten_once_it_is_no_longer_live():
    order = an_order_in(OrderStatus.OPEN, first_sent_at=NOW)
    ops = _Readings([order], [order], [])
    supervisor = Supervisor(
        ops,
        clock=VirtualClock(NOW + timedelta(minutes=10)),
        settings=SupervisionSettings(
            reconcile_every=None,
            unfilled_timeout=timedelta(minutes=5),
            unfilled_action=UnfilledAction.CANCEL,
        ),
        publish=lambda _events: None,
    )
    supervisor.tick()
    supervisor.tick()  # still open (its cancel is on its way): not canceled twice
    assert ops.canceled == [order.local_id]
    supervisor.tick()  # it finished: the service, open for weeks, does not keep its id
    assert supervisor._handled == set()
