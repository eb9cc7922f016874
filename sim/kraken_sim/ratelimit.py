"""Kraken's two rate-limit counters (section 8), decaying on the exchange's clock.

* REST counter, per API key: each private call adds its cost (Ledgers/TradesHistory 2,
  AddOrder/CancelOrder 0, ClosedOrders ``Quirks.closed_orders_cost`` (1 by default, as Kraken's
  guide says; 2 is unconfirmed), everything else 1); a call that would push it over the tier's
  maximum is refused with ``EAPI:Rate limit exceeded`` and not counted.
* Trading counter, per key and pair: AddOrder adds 1 on receipt (even if validation then fails);
  CancelOrder adds the age penalty of the order (8/6/5/4/2/1 below 5/10/15/45/90/300 s). A
  request that would push it over the threshold is refused with ``EOrder:Rate limit exceeded``
  and not counted; a multi-order cancel (by userref) is always accepted, as batch cancels are.

AddOrderBatch adds n/2 to the trading counter; CancelOrderBatch adds each order's penalty and
is always accepted. Public endpoints are not limited (Kraken's per-IP limit is undocumented).
The ``unlimited`` tier switches everything off.

>>> counter = DecayingCounter(maximum=15, decay_per_s=0.33)
>>> [counter.try_add(1, now=0.0) for _ in range(16)].count(False)
1
>>> counter.try_add(1, now=10.0)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from kraken_sim.quirks import Quirks
from kraken_sim.scenario import Tier

__all__ = [
    "REST_COST",
    "DecayingCounter",
    "TierLimits",
    "cancel_penalty",
    "rest_cost",
    "tier_limits",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class TierLimits:
    """The numbers of one verification tier."""

    rest_max: float
    rest_decay: float
    trading_max: float
    trading_decay: float
    open_orders_per_pair: int


def _limits(
    rest: tuple[float, float], trading: tuple[float, float], open_orders: int
) -> TierLimits:
    return TierLimits(
        rest_max=rest[0],
        rest_decay=rest[1],
        trading_max=trading[0],
        trading_decay=trading[1],
        open_orders_per_pair=open_orders,
    )


# tier: (REST max, decay/s), (trading threshold, decay/s), open orders per pair
_TIERS: Final = {
    "starter": _limits((15, 0.33), (60, 1.0), 60),
    "intermediate": _limits((20, 0.5), (125, 2.34), 80),
    "pro": _limits((20, 1.0), (180, 3.75), 225),
}

REST_COST: Final = {
    "Ledgers": 2,
    "QueryLedgers": 2,
    "TradesHistory": 2,
    "AddOrder": 0,
    "CancelOrder": 0,
    "AddOrderBatch": 0,  # not confirmed (ccxt's figure)
    "CancelOrderBatch": 0,  # not confirmed (ccxt's figure)
    # AmendOrder: Kraken names no cost (ccxt: 0); the fake charges the usual 1.
}


def rest_cost(method: str, quirks: Quirks) -> int:
    """REST-counter cost of a private method.

    >>> rest_cost("Balance", Quirks()), rest_cost("ClosedOrders", Quirks(closed_orders_cost=2))
    (1, 2)
    """
    if method == "ClosedOrders":
        return quirks.closed_orders_cost
    return REST_COST.get(method, 1)


_CANCEL_PENALTIES: Final = ((5.0, 8), (10.0, 6), (15.0, 5), (45.0, 4), (90.0, 2), (300.0, 1))


def tier_limits(tier: Tier | None) -> TierLimits | None:
    """The limits of ``tier``; None for ``unlimited`` (no limits)."""
    if tier is None or tier == "unlimited":
        return None
    return _TIERS[tier]


def cancel_penalty(age_s: float) -> int:
    """Trading-counter cost of cancelling an order ``age_s`` seconds after it was placed.

    >>> cancel_penalty(2), cancel_penalty(36), cancel_penalty(301)
    (8, 4, 0)
    """
    for limit, cost in _CANCEL_PENALTIES:
        if age_s < limit:
            return cost
    return 0


_AMEND_PENALTIES: Final = ((5.0, 3), (10.0, 2), (15.0, 1))


def amend_cost(age_s: float) -> int:
    """Trading-counter cost of amending an order ``age_s`` seconds after it was placed or last
    amended: +1, plus 3/2/1 when younger than 5/10/15 s (kraken-ws.md section 6).

    >>> amend_cost(1), amend_cost(7), amend_cost(12), amend_cost(60)
    (4, 3, 2, 1)
    """
    for limit, cost in _AMEND_PENALTIES:
        if age_s < limit:
            return 1 + cost
    return 1


class DecayingCounter:
    """A counter that decays linearly with time and refuses additions past its maximum."""

    __slots__ = ("_at", "_value", "decay_per_s", "maximum")

    def __init__(self, *, maximum: float, decay_per_s: float) -> None:
        self.maximum = maximum
        self.decay_per_s = decay_per_s
        self._value = 0.0
        self._at = 0.0

    def value(self, now: float) -> float:
        """The counter's value at ``now``."""
        elapsed = max(0.0, now - self._at)
        return max(0.0, self._value - elapsed * self.decay_per_s)

    def try_add(self, cost: float, *, now: float) -> bool:
        """Add ``cost`` unless that would exceed the maximum; return whether it was added."""
        current = self.value(now)
        if current + cost > self.maximum + 1e-9:
            return False
        self.force_add(cost, now=now, current=current)
        return True

    def force_add(self, cost: float, *, now: float, current: float | None = None) -> None:
        """Add ``cost`` regardless of the maximum."""
        self._value = (self.value(now) if current is None else current) + cost
        self._at = max(self._at, now)
