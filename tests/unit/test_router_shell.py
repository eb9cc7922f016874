"""The maker-first router (shell) against a fake of the service operations it calls.

A plan's thread hands the router its new orders (`watch`) while the supervisor's thread
is in the middle of a look; the interleaving is replayed here deterministically.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from tests.builders import NOW, a_config, an_order_in

from kraken_bot.execution.core.models import LocalOrder, OrderStatus
from kraken_bot.execution.shell._route import MakerFirstRouter
from kraken_sim.clock import VirtualClock


def maker_order(local_id: str) -> LocalOrder:
    return an_order_in(
        OrderStatus.OPEN,
        local_id=local_id,
        kraken_order_id=f"O{local_id}",
        post_only=True,
        reference_price=Decimal(60000),
    )


class _Ops:
    """Service operations where nothing works any more; ``meanwhile`` runs while the
    router reads an order (another thread acting at that instant)."""

    def __init__(self) -> None:
        self.meanwhile: Callable[[], None] = lambda: None

    def plan_running(self) -> bool:
        return False

    def working_orders(self) -> Sequence[LocalOrder]:
        return ()

    def order(self, local_id: str) -> LocalOrder | None:
        self.meanwhile()
        self.meanwhile = lambda: None
        return None  # finished: the router stops watching it

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"not expected: {name}")


def test_an_order_watched_while_a_look_finds_nothing_is_still_worked():
    ops = _Ops()
    clock = VirtualClock(NOW)
    router = MakerFirstRouter(ops=ops, clock=clock, config=a_config())
    router.watch([maker_order("OLD")])
    clock.sleep(router.poll)
    new = maker_order("NEW")
    ops.meanwhile = lambda: router.watch([new])  # the plan's thread, mid-look
    router.tick()
    # The look found OLD finished and stopped watching it; NEW, handed over meanwhile,
    # must still be watched with a look scheduled (it was dropped with OLD once, and then
    # no look came until the next plan: a maker order left unchased).
    assert list(router._watched) == ["NEW"]
    assert router.seconds_until_due() == router.poll
